/**
 * Headless Chromium for the dashboard's end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core, which lives in web/node_modules (the dashboard's own package). Only the part of
 * Playwright's API the tests call is declared here, so the root typecheck does not need web/ installed.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Flags from issue 5: no sandbox as root, no GPU, and no background traffic (the network is closed). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
export const DIST_INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

export interface Locator {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  count(): Promise<number>;
  click(): Promise<void>;
  fill(value: string): Promise<void>;
  press(key: string): Promise<void>;
  check(): Promise<void>;
  hover(options?: { position?: { x: number; y: number } }): Promise<void>;
  textContent(): Promise<string | null>;
  innerText(): Promise<string>;
  allInnerTexts(): Promise<string[]>;
  getAttribute(name: string): Promise<string | null>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  setInputFiles(files: string | { name: string; mimeType: string; buffer: Buffer }): Promise<void>;
  selectOption(value: string): Promise<string[]>;
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null>;
  locator(selector: string, options?: LocatorOptions): Locator;
  filter(options: LocatorOptions): Locator;
  evaluateAll<R>(fn: (elements: Element[]) => R): Promise<R>;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
}

export interface LocatorOptions {
  hasText?: string | RegExp;
  hasNotText?: string | RegExp;
}

export interface Page {
  goto(url: string): Promise<unknown>;
  url(): string;
  locator(selector: string, options?: LocatorOptions): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  waitForFunction<T>(fn: (arg: T) => unknown, arg: T, options?: { timeout?: number }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<R>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  mouse: { move(x: number, y: number, options?: { steps?: number }): Promise<void>; down(): Promise<void>; up(): Promise<void> };
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  /** window.alert/confirm/prompt; without a listener Playwright dismisses them (prompt returns null). */
  on(event: 'dialog', listener: (dialog: Dialog) => void): void;
  close(): Promise<void>;
}

export interface Dialog {
  type(): string;
  message(): string;
  accept(promptText?: string): Promise<void>;
  dismiss(): Promise<void>;
}

export interface Browser {
  newPage(options?: { viewport?: { width: number; height: number }; deviceScaleFactor?: number }): Promise<Page>;
  close(): Promise<void>;
}

interface Chromium {
  launch(options: { executablePath: string; args: string[]; headless?: boolean; timeout?: number }): Promise<Browser>;
}

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailableReason(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
  if (!existsSync(`${WEB_DIR}node_modules/playwright-core/package.json`)) return 'web/node_modules/playwright-core is missing (npm ci --prefix web)';
  if (!existsSync(DIST_INDEX)) return 'web/dist is missing (npm run build --prefix web)';
  return null;
}

export async function launchChromium(): Promise<Browser> {
  const require = createRequire(`${WEB_DIR}package.json`);
  const { chromium } = require('playwright-core') as { chromium: Chromium };
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}
