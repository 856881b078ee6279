// A page rendered by miniprogram-simulate, as a phone shows it: its DOM with the WXSS of the page
// and of every component it uses (rpx converted from the 750-wide design to a 375-wide screen),
// WeChat's default styles of the built-in components (wechat-components.css), and the attributes
// simulate's stub built-ins drop put back. Headless Chromium then photographs it (npm run
// screenshots) or measures it (the page layout suite). Needs `chromium` and a CJK font (Debian:
// chromium, fonts-wqy-microhei).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MINIPROGRAM_ROOT, type PageWrapper } from './simulate';

export const SCREEN = { width: 375, height: 667 };
/** WeChat's navigation bar, drawn above the page as the phone shows it. */
const NAV_BAR_HEIGHT = 44;
const PX_PER_RPX = SCREEN.width / 750;

export function rpxToPx(css: string): string {
  return css.replace(/(-?\d*\.?\d+)rpx/g, (_, n: string) => `${+(Number(n) * PX_PER_RPX).toFixed(2)}px`);
}

/** Inline styles are written in rpx; simulate would turn 1rpx into 1px. Call before rendering. */
export function convertInlineRpx(): void {
  // biome-ignore lint/style/noCommonJs: j-component's internals ship no ES module or typings
  const utils = require('j-component/src/tool/utils') as { transformRpx(style: string): string };
  utils.transformRpx = rpxToPx;
}

/** The WXSS of a page and of every component it uses, class-prefixed the way simulate renders them. */
function collectCss(jsonPath: string, tagName: string, hosts: string[], seen = new Set<string>()): string {
  // biome-ignore lint/style/noCommonJs: miniprogram-simulate's internals ship no ES module or typings
  const wxss = require('miniprogram-simulate/src/wxss') as {
    getContent(file: string): string;
    compile(source: string, options: { prefix: string }): string;
  };
  const base = jsonPath.replace(/\.json$/, '');
  if (seen.has(base)) return '';
  seen.add(base);
  let css = wxss.compile(wxss.getContent(`${base}.wxss`), { prefix: tagName });
  const using = (JSON.parse(fs.readFileSync(jsonPath, 'utf8')).usingComponents ?? {}) as Record<string, string>;
  for (const [tag, target] of Object.entries(using)) {
    hosts.push(tag);
    const file = target.startsWith('/') ? path.join(MINIPROGRAM_ROOT, target) : path.join(path.dirname(base), target);
    css += collectCss(`${file}.json`, tag, hosts, seen);
  }
  return css;
}

interface VirtualNode {
  tagName: string;
  attrs: Array<{ name: string; value: unknown }>;
  children: Array<VirtualNode | string>;
}

/**
 * simulate's built-in tags are stubs that drop their attributes. WeChat's default styles select on
 * them (size, type) and a phone draws some (an input's value or placeholder, an image's src), so
 * they are put back from simulate's virtual tree, which mirrors the DOM element for element.
 */
function restoreBuiltIns(node: VirtualNode, element: Element): void {
  const attributes = new Map(node.attrs.map(({ name, value }) => [name, value]));
  if (element.tagName.startsWith('WX-')) {
    for (const [name, value] of attributes) {
      if (name === 'class' || name === 'style' || value === false || typeof value === 'object') continue;
      element.setAttribute(
        name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
        value === true ? '' : String(value),
      );
    }
  }
  // The native control inside an input draws its text or placeholder vertically centred.
  if (element.tagName === 'WX-INPUT' || element.tagName === 'WX-TEXTAREA') {
    const control = document.createElement(element.tagName === 'WX-INPUT' ? 'input' : 'textarea');
    control.setAttribute('value', String(attributes.get('value') ?? ''));
    control.textContent = String(attributes.get('value') ?? '');
    control.setAttribute('placeholder', String(attributes.get('placeholder') ?? ''));
    control.setAttribute(
      'style',
      'display:block;box-sizing:border-box;width:100%;height:100%;margin:0;padding:0;border:0;outline:0;background:transparent;font:inherit;color:inherit;text-align:inherit;resize:none;',
    );
    element.appendChild(control);
  }
  if (element.tagName === 'WX-IMAGE' && attributes.get('src')) {
    const fit: Record<string, string> = { aspectFill: 'cover', aspectFit: 'contain' };
    const img = document.createElement('img');
    img.src = String(attributes.get('src'));
    img.setAttribute('style', `display:block;width:100%;height:100%;object-fit:${fit[String(attributes.get('mode'))] ?? 'fill'};`);
    element.appendChild(img);
  }
  const children = node.children.filter((child): child is VirtualNode => typeof child !== 'string');
  children.forEach((child, index) => restoreBuiltIns(child, element.children[index]));
}

export interface PageHtmlOptions {
  /** The page's folder under miniprogram/pages. */
  page: string;
  title: string;
  dark: boolean;
}

/** The page as a standalone HTML document at the phone's size, its scroll views at the bottom. */
export function pageHtml(page: PageWrapper, options: PageHtmlOptions): string {
  restoreBuiltIns((page as unknown as { toJSON(): VirtualNode }).toJSON(), page.dom!);
  const hosts: string[] = [];
  const pageCss = collectCss(path.join(MINIPROGRAM_ROOT, 'pages', options.page, 'index.json'), 'main', hosts);
  const themes = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'theme.json'), 'utf8'));
  const colors = themes[options.dark ? 'dark' : 'light'] as { navBg: string; navText: string; pageBg: string };
  const appCss = fs.readFileSync(path.join(MINIPROGRAM_ROOT, 'app.wxss'), 'utf8').replace(/\bpage\b/g, '.viewport');
  let styles = rpxToPx(appCss + pageCss).replace(/100vh/g, `${SCREEN.height - NAV_BAR_HEIGHT}px`);
  // Dark mode photographed by applying the dark rules unconditionally.
  if (options.dark) styles = styles.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, '@media all');
  const frame = `
    html, body { margin: 0; width: ${SCREEN.width}px; height: ${SCREEN.height}px; overflow: hidden; }
    main { display: block; }
    /* A custom component's host is an element WeChat gives no style: inline, like any unknown tag. */
    ${[...new Set(hosts)].join(', ')} { display: inline; }
    wx-scroll-view { overflow-y: auto; }
    .nav-bar { height: ${NAV_BAR_HEIGHT}px; display: flex; align-items: center; justify-content: center; font-size: 17px; font-weight: 600; position: relative; }
    .nav-bar .capsule { position: absolute; right: 7px; top: 6px; width: 87px; height: 32px; border-radius: 16px; box-sizing: border-box; border: 1px solid rgba(128, 128, 128, 0.35); display: flex; align-items: center; justify-content: space-around; font-size: 14px; font-weight: 400; }
    .viewport { position: relative; height: ${SCREEN.height - NAV_BAR_HEIGHT}px; overflow: hidden; transform: translateZ(0); }
  `;
  const builtIns = fs.readFileSync(path.join(__dirname, 'wechat-components.css'), 'utf8');
  return `<!doctype html>
<html><head><meta charset="utf-8"><style>${frame}</style><style>${builtIns}</style><style>${styles}</style></head>
<body style="background:${colors.pageBg}">
<div class="nav-bar" style="background:${colors.navBg};color:${colors.navText}">${options.title}<div class="capsule"><span>•••</span><span>◉</span></div></div>
<div class="viewport">${page.dom!.outerHTML}</div>
<script>for (const list of document.querySelectorAll('wx-scroll-view')) list.scrollTop = list.scrollHeight;</script>
</body></html>`;
}

function chromium(): string {
  for (const candidate of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      execFileSync('which', [candidate], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new Error('Chromium not found: apt-get install -y chromium fonts-wqy-microhei');
}

/** Without a CJK font every Chinese character is a box, and pictures and text widths are wrong. */
function requireCjkFont(): void {
  let fonts = '';
  try {
    fonts = execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' });
  } catch {
    throw new Error('fc-list not found (fontconfig): apt-get install -y chromium fonts-wqy-microhei');
  }
  if (!fonts.trim()) throw new Error('no Chinese font installed: apt-get install -y fonts-wqy-microhei');
}

function runChromium(htmlFile: string, mode: string[]): string {
  requireCjkFont();
  return execFileSync(
    chromium(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      '--virtual-time-budget=3000',
      `--window-size=${SCREEN.width},${SCREEN.height}`,
      ...mode,
      `file://${htmlFile}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
  );
}

export function photograph(htmlFile: string, png: string): void {
  runChromium(htmlFile, [`--screenshot=${png}`]);
  if (!fs.existsSync(png)) throw new Error(`Chromium wrote no ${png}`);
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Laid-out boxes, in CSS px, of every element matching each selector in the page's HTML file. */
export function measure(htmlFile: string, selectors: string[]): Record<string, Box[]> {
  const probe = `${htmlFile.replace(/\.html$/, '')}.measure.html`;
  const script = `<script>
    const boxes = {};
    for (const selector of ${JSON.stringify(selectors)}) {
      boxes[selector] = Array.from(document.querySelectorAll(selector), (element) => {
        const { left, top, width, height } = element.getBoundingClientRect();
        return { left, top, width, height };
      });
    }
    const out = document.createElement('pre');
    out.id = 'boxes';
    out.textContent = JSON.stringify(boxes);
    document.body.appendChild(out);
  </script>`;
  fs.writeFileSync(probe, fs.readFileSync(htmlFile, 'utf8').replace('</body>', `${script}</body>`));
  const dom = runChromium(probe, ['--dump-dom']);
  const found = /<pre id="boxes">([^<]*)<\/pre>/.exec(dom);
  if (!found) throw new Error(`Chromium measured nothing in ${probe}`);
  const text = found[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(text) as Record<string, Box[]>;
}

/**
 * The lowest WCAG contrast ratio between text and what is behind it, per selector, as Chromium
 * computes the styles: the text colour against the element's backgrounds blended up to the first
 * opaque one (the page's). An empty list when nothing matches.
 */
export function textContrast(htmlFile: string, selectors: string[]): Record<string, number[]> {
  const probe = `${htmlFile.replace(/\.html$/, '')}.contrast.html`;
  const script = `<script>
    const rgba = (css) => { const [r, g, b, a = 1] = css.match(/[\\d.]+/g).map(Number); return { r, g, b, a }; };
    const over = (top, below) => ({
      r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a), b: top.b * top.a + below.b * (1 - top.a), a: 1,
    });
    const luminance = ({ r, g, b }) => {
      const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const behind = (element) => {
      const layers = [];
      for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
        const layer = rgba(getComputedStyle(node).backgroundColor);
        if (layer.a > 0) layers.push(layer);
        if (layer.a >= 1) break;
      }
      return layers.reverse().reduce((below, top) => over(top, below), { r: 255, g: 255, b: 255, a: 1 });
    };
    const ratios = {};
    for (const selector of ${JSON.stringify(selectors)}) {
      ratios[selector] = Array.from(document.querySelectorAll(selector), (element) => {
        const background = behind(element);
        const text = over(rgba(getComputedStyle(element).color), background);
        const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
        return Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100;
      });
    }
    const out = document.createElement('pre');
    out.id = 'ratios';
    out.textContent = JSON.stringify(ratios);
    document.body.appendChild(out);
  </script>`;
  fs.writeFileSync(probe, fs.readFileSync(htmlFile, 'utf8').replace('</body>', `${script}</body>`));
  const dom = runChromium(probe, ['--dump-dom']);
  const found = /<pre id="ratios">([^<]*)<\/pre>/.exec(dom);
  if (!found) throw new Error(`Chromium measured nothing in ${probe}`);
  return JSON.parse(found[1]) as Record<string, number[]>;
}
