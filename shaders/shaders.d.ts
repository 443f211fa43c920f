// esbuild inlines .wgsl files as text.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
