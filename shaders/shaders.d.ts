// esbuild inlines .wgsl files as text.
declare module '*.wgsl' {
  const source: string;
  export default source;
}

// wgsl-preprocessor ships no type declarations (and no package entry point).
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
