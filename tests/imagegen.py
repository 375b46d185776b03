"""Small, valid images made by the tests themselves (no image library needed).

png(width, height, seed)  an RGB PNG with a gradient.
jpeg(width, height, seed) a baseline colour JPEG (YCbCr, 4:4:4) made of flat
                          8x8 blocks in a gradient: a real JFIF file every
                          decoder reads, built with the simplest legal tables.
"""
import struct
import zlib


def png(width=64, height=48, seed=0):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + bytes(v for x in range(width)
                        for v in (x * 255 // width, y * 255 // height, (seed * 97) & 0xFF))
        for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc, self.n = 0, 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self):
        while self.n:
            self.put(1, 1)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(width=64, height=48, seed=0):
    # Quantisation: all 1s, so a flat block's DC coefficient is 8 * (value - 128).
    dqt = _segment(0xDB, b"\x00" + b"\x01" * 64)
    sof = _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)
                   + b"".join(bytes([cid, 0x11, 0]) for cid in (1, 2, 3)))
    # DC table: the 12 size categories, all 4-bit codes 0000..1011.
    dc_counts = [0, 0, 0, 12] + [0] * 12
    dht_dc = bytes([0x00]) + bytes(dc_counts) + bytes(range(12))
    # AC table: only end-of-block (symbol 0x00), code "00"; every block is flat.
    ac_counts = [0, 1] + [0] * 14
    dht_ac = bytes([0x10]) + bytes(ac_counts) + b"\x00"
    dht = _segment(0xC4, dht_dc + dht_ac)
    sos = _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    app0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")

    bits = _Bits()
    pred = [0, 0, 0]
    for by in range((height + 7) // 8):
        for bx in range((width + 7) // 8):
            r = min(255, bx * 8 * 255 // max(1, width))
            g = min(255, by * 8 * 255 // max(1, height))
            b = (seed * 97) & 0xFF
            ycc = (0.299 * r + 0.587 * g + 0.114 * b,
                   128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                   128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
            for c, value in enumerate(ycc):
                dc = 8 * (int(round(value)) - 128)
                diff, pred[c] = dc - pred[c], dc
                size = abs(diff).bit_length()
                bits.put(size, 4)  # DC code for category `size`
                if size:
                    bits.put(diff if diff >= 0 else diff + (1 << size) - 1, size)
                bits.put(0, 2)  # EOB
    return b"\xff\xd8" + app0 + dqt + sof + dht + sos + bits.flush() + b"\xff\xd9"
