/** Making an image failed: what asrctl was doing, the tool's own words, and what to do. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n  hint: ${hint}`, options);
  }
}
