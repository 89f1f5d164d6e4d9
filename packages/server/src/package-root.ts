/**
 * The server package's root (package.json, page/): the directory above this file, which sits at
 * the top of dist/. The image's single-file bundle sits at the top of its dist/ too, beside page/
 * (see packages/cli/src/images/app-context.ts), so the same relation holds there.
 */
export const PACKAGE_ROOT = new URL('../', import.meta.url);
