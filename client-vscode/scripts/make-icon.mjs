// Writes images/icon.png (128x128 RGBA): a rounded amber square with a dark "!" mark.
// Run once (`node scripts/make-icon.mjs`); the PNG is committed.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const size = 128;
const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});
const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
};

const raw = Buffer.alloc(size * (size * 4 + 1));
const r = 24; // corner radius
for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
        const i = y * (size * 4 + 1) + 1 + x * 4;
        const cx = Math.min(Math.max(x, r), size - 1 - r);
        const cy = Math.min(Math.max(y, r), size - 1 - r);
        const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
        const bar = x >= 54 && x < 74 && y >= 20 && y < 84;
        const dot = (x - 64) ** 2 + (y - 102) ** 2 <= 11 * 11;
        const [R, G, B] = bar || dot ? [0x1f, 0x23, 0x28] : [0xf5, 0xa6, 0x23];
        raw[i] = R;
        raw[i + 1] = G;
        raw[i + 2] = B;
        raw[i + 3] = inside ? 255 : 0;
    }
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(size, 0);
ihdr.writeUInt32BE(size, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync('images', { recursive: true });
writeFileSync('images/icon.png', png);
console.log(`images/icon.png: ${png.length} bytes`);
