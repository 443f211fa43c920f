// Engine public API.
export async function shutdown(): Promise<void> {}
