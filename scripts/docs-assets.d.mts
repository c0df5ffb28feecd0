/** Copies the Swagger UI files that /docs loads into public/docs/assets. */
export function copyDocsAssets(): void;
