export function buildPublic(): void;
