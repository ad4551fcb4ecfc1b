// What the page adds to the browser's globals.
import type { CandelaHandle } from '../src/app.js';

declare global {
  interface Window {
    /** The live chart, for tests and the console (set by src/app.js). */
    candela: CandelaHandle;
  }
}

export {};
