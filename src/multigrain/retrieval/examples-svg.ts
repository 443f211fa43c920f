/**
 * Retrieval examples as one standalone SVG picture: a row per query (the query, framed blue,
 * then its best results, framed green when relevant and red when not), with its AP. The
 * thumbnails come as image URLs (data: URIs for a self-contained file); encoding them is the
 * caller's business (sharp in Node, a canvas in a page).
 */

/** An image to draw: its URL and its size in pixels. */
export interface Thumbnail {
  href: string;
  width: number;
  height: number;
}

export interface RetrievalExample {
  query: Thumbnail;
  /** Caption of the row (e.g. "AP 0.83"). */
  caption: string;
  results: { image: Thumbnail; relevant: boolean }[];
}

const GAP = 8;
const FRAME = 3;
const CAPTION = 18;
const COLORS = { query: '#1f77b4', relevant: '#2ca02c', wrong: '#d62728' };

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Lays the rows out left to right, each thumbnail at its own size. */
export function retrievalExamplesSvg(title: string, examples: readonly RetrievalExample[]): string {
  const rows: string[] = [];
  let y = 30;
  let width = 0;
  for (const ex of examples) {
    const h = Math.max(ex.query.height, ...ex.results.map((r) => r.image.height)) + 2 * FRAME;
    rows.push(`<text x="${GAP}" y="${y + 13}">${escapeXml(ex.caption)}</text>`);
    let x = GAP;
    const cells: [Thumbnail, string][] = [[ex.query, COLORS.query], ...ex.results.map((r): [Thumbnail, string] => [r.image, r.relevant ? COLORS.relevant : COLORS.wrong])];
    cells.forEach(([img, color], i) => {
      const top = y + CAPTION;
      rows.push(`<rect x="${x}" y="${top}" width="${img.width + 2 * FRAME}" height="${img.height + 2 * FRAME}" fill="${color}"/>`);
      rows.push(`<image x="${x + FRAME}" y="${top + FRAME}" width="${img.width}" height="${img.height}" href="${escapeXml(img.href)}"/>`);
      x += img.width + 2 * FRAME + (i === 0 ? 3 * GAP : GAP); // a wider gap after the query
    });
    width = Math.max(width, x);
    y += CAPTION + h + GAP;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(width, 320)}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${GAP}" y="18" font-size="14">${escapeXml(title)}</text>`,
    ...rows,
    '</svg>',
  ].join('\n');
}

/**
 * Which queries to show: `count` of them spread evenly over the queries sorted by AP, best
 * first, so the picture shows successes, typical cases and failures.
 */
export function exampleQueries(ap: ArrayLike<number>, count: number): number[] {
  const order = Array.from({ length: ap.length }, (_, q) => q).sort((a, b) => ap[b]! - ap[a]! || a - b);
  if (count >= order.length) return order;
  if (count <= 1) return order.slice(0, Math.max(count, 0));
  return Array.from({ length: count }, (_, i) => order[Math.round((i * (order.length - 1)) / (count - 1))]!);
}
