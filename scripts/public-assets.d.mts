export function buildPublic(): Promise<void>;
