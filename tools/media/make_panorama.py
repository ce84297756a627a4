#!/usr/bin/env python3
"""Draw 360° equirectangular panoramas of an underground coal-mine belt roadway with hazards.

Pillow only (no numpy): the scene is built from small 3D patches, lines and blobs that are
projected onto the equirectangular image and painted far-to-near. Everything is deterministic
(fixed random seeds), so running the script again gives the same JPEG and the same hotspots.

    .venv/bin/python tools/media/make_panorama.py                  # both variants
    .venv/bin/python tools/media/make_panorama.py --variant induction --out /tmp/x.jpg

Coordinates (metres): the camera is at the origin, 1.6 m above the floor. +x runs down the
roadway (yaw 0, the image centre), +y is to the right (positive yaw), +z is up (positive pitch).
Each hazard's hotspot is computed from the 3D point where it is drawn, with the same projection
as the pixels: yaw = (u / W - 0.5) * 360, pitch = (0.5 - v / H) * 180.
"""

# ruff: noqa: S311  (seeded random numbers only draw texture and rubble, nothing secret)

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

W, H = 2048, 1024
PX_PER_RAD = W / (2 * math.pi)
FLOOR = -1.6  # floor height relative to the camera
SPRING = 0.3  # height where the straight walls end and the arch begins
HALF = 2.4  # half width of the roadway = arch radius
REACH = 40.0  # roadway drawn from -REACH to +REACH along x
LIGHT_ROWS = {
    "induction": (-35, -27, -19, -11, -3.5, 8, 16, 24, 32),
    "refresher": (-37, -29, -21, -13, -5, 3, 11, 19, 27, 35),
}
LIGHTS = [(x, 0.0, 2.5) for x in LIGHT_ROWS["induction"]]
FONT_PATHS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
]
ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "induction": ROOT / "courses/general-underground-induction/media/roadway-hazards.jpg",
    "refresher": ROOT / "courses/production-annual-refresher/media/belt-roadway-hazards.jpg",
}


# ---------------------------------------------------------------- geometry helpers


def sub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def add(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def mul(a, k):
    return (a[0] * k, a[1] * k, a[2] * k)


def dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def norm(a):
    return math.sqrt(dot(a, a))


def unit(a):
    n = norm(a) or 1.0
    return (a[0] / n, a[1] / n, a[2] / n)


def centroid(points):
    n = len(points)
    return (
        sum(p[0] for p in points) / n,
        sum(p[1] for p in points) / n,
        sum(p[2] for p in points) / n,
    )


def project(p):
    """3D point -> (u, v) pixel coordinates of the equirectangular image."""
    yaw = math.atan2(p[1], p[0])
    pitch = math.atan2(p[2], math.hypot(p[0], p[1]))
    return ((yaw / (2 * math.pi) + 0.5) * W, (0.5 - pitch / math.pi) * H)


def yaw_pitch(p):
    """The hotspot of a 3D point, rounded for course.yaml."""
    u, v = project(p)
    return round((u / W - 0.5) * 360, 1), round((0.5 - v / H) * 180, 1)


def arch_point(x, phi):
    """Point on the arch; phi = 0 at the right springline, pi/2 at the crown, pi at the left."""
    return (x, HALF * math.cos(phi), SPRING + HALF * math.sin(phi))


def arch_normal(phi):
    return (0.0, -math.cos(phi), -math.sin(phi))


def roof_z(y):
    """Height of the roof surface above the camera at lateral position y."""
    if abs(y) >= HALF:
        return SPRING
    return SPRING + math.sqrt(HALF * HALF - y * y)


# ---------------------------------------------------------------- shading


def light_at(p, n=None):
    """Light falling on point p with normal n (None: a small object facing the camera)."""
    d = norm(p) or 0.01
    to_cam = mul(p, -1.0 / d)
    lam = 0.85 if n is None else max(0.0, dot(n, to_cam))
    level = 0.05 + 1.05 * lam / (1.0 + (d / 3.4) ** 2)
    for light in LIGHTS:
        v = sub(light, p)
        dl = norm(v)
        if dl > 16:
            continue
        lam = 0.6 if n is None else max(0.0, dot(n, mul(v, 1.0 / (dl or 0.01))))
        level += 0.7 * lam / (1.0 + (dl / 2.2) ** 2)
    return level


def lit(colour, level):
    return tuple(max(0, min(255, int(c * level))) for c in colour)


def jitter(colour, rng, amount=0.08):
    k = 1.0 + rng.uniform(-amount, amount)
    return tuple(c * k for c in colour)


class ValueNoise:
    """Smooth deterministic 2D noise in [0, 1] (bilinear value noise)."""

    def __init__(self, seed):
        self.seed = seed
        self.cache = {}

    def _at(self, i, j):
        key = (i, j)
        if key not in self.cache:
            self.cache[key] = random.Random(f"{self.seed}:{i}:{j}").random()
        return self.cache[key]

    def __call__(self, a, b):
        i, j = math.floor(a), math.floor(b)
        fa, fb = a - i, b - j
        fa, fb = fa * fa * (3 - 2 * fa), fb * fb * (3 - 2 * fb)
        top = self._at(i, j) * (1 - fa) + self._at(i + 1, j) * fa
        bottom = self._at(i, j + 1) * (1 - fa) + self._at(i + 1, j + 1) * fa
        return top * (1 - fb) + bottom * fb


# ---------------------------------------------------------------- painter


class Painter:
    def __init__(self):
        self.img = Image.new("RGB", (W, H), (8, 8, 8))
        self.draw = ImageDraw.Draw(self.img)
        self.glow = Image.new("RGB", (W, H), (0, 0, 0))
        self.glow_draw = ImageDraw.Draw(self.glow)

    @staticmethod
    def _unwrap(uv):
        us = [u for u, _v in uv]
        if max(us) - min(us) > W / 2:
            uv = [(u + W if u < W / 2 else u, v) for u, v in uv]
        return uv

    def polygon(self, points, colour):
        uv = self._unwrap([project(p) for p in points])
        us = [u for u, _v in uv]
        if max(us) - min(us) > W / 4:  # a patch around the zenith or nadir: leave to the fill
            return
        colour = tuple(int(c) for c in colour)
        self.draw.polygon(uv, fill=colour)
        if max(us) > W:
            self.draw.polygon([(u - W, v) for u, v in uv], fill=colour)

    def polygon2d(self, uv, colour, draw=None):
        draw = draw or self.draw
        uv = self._unwrap(uv)
        colour = tuple(int(c) for c in colour)
        draw.polygon(uv, fill=colour)
        if max(u for u, _v in uv) > W:
            draw.polygon([(u - W, v) for u, v in uv], fill=colour)
        if min(u for u, _v in uv) < 0:
            draw.polygon([(u + W, v) for u, v in uv], fill=colour)

    def line(self, points, colour, radius=None, width=1, shade=True, normal=None):
        """A polyline in 3D; radius (metres) gives a width that shrinks with distance."""
        for a, b in zip(points, points[1:], strict=False):
            mid = mul(add(a, b), 0.5)
            d = norm(mid) or 0.01
            w = width if radius is None else max(1, round(2 * radius * PX_PER_RAD / d))
            c = lit(colour, light_at(mid, normal)) if shade else tuple(int(x) for x in colour)
            (ua, va), (ub, vb) = project(a), project(b)
            if abs(ub - ua) > W / 2:
                ub += W if ub < ua else -W
            if abs(ub - ua) > W / 4:
                continue
            for shift in (0, W, -W):
                if shift and not (min(ua, ub) + shift < W and max(ua, ub) + shift > 0):
                    continue
                self.draw.line([(ua + shift, va), (ub + shift, vb)], fill=c, width=w)
                if w >= 3:
                    r = w / 2 - 0.5
                    self.draw.ellipse([ub + shift - r, vb - r, ub + shift + r, vb + r], fill=c)

    def blob(self, centre, radius, colour, rng, points=9, flat=0.75, shade=True):
        """An irregular lump (rock, coal, bag) drawn as a jagged polygon around its centre."""
        u, v = project(centre)
        d = norm(centre) or 0.01
        r = radius * PX_PER_RAD / d
        poly = []
        for k in range(points):
            a = 2 * math.pi * k / points + rng.uniform(-0.25, 0.25)
            rr = r * rng.uniform(0.7, 1.15)
            poly.append((u + rr * math.cos(a), v + rr * math.sin(a) * flat))
        base = lit(colour, light_at(centre)) if shade else colour
        self.polygon2d(poly, base)
        # a lighter top facet gives the lump some volume
        top = [(pu, pv) for pu, pv in poly if pv <= v + r * 0.1]
        if len(top) >= 3:
            self.polygon2d(
                [(pu * 0.85 + u * 0.15, pv * 0.85 + (v - r * 0.2) * 0.15) for pu, pv in top],
                tuple(min(255, int(c * 1.25)) for c in base),
            )

    def light_fixture(self, centre):
        u, v = project(centre)
        d = norm(centre)
        r = max(2.0, 0.16 * PX_PER_RAD / d)
        g = r * 5
        for shift in (-W, 0, W):
            c = u + shift
            self.draw.ellipse([c - 1.8 * r, v - r, c + 1.8 * r, v + r], fill=(255, 250, 225))
            for k, level in ((1.0, 90), (0.55, 150), (0.3, 230)):
                self.glow_draw.ellipse(
                    [c - g * k * 1.6, v - g * k, c + g * k * 1.6, v + g * k],
                    fill=(level, int(level * 0.95), int(level * 0.8)),
                )

    def textured_quad(self, corners, texture, level):
        """Paste a texture (sign, display) onto a small 3D quad: corners TL, TR, BR, BL."""
        uv = self._unwrap([project(p) for p in corners])
        xs, ys = [u for u, _v in uv], [v for _u, v in uv]
        x0, y0 = math.floor(min(xs)), math.floor(min(ys))
        x1, y1 = math.ceil(max(xs)), math.ceil(max(ys))
        w, h = max(1, x1 - x0), max(1, y1 - y0)
        dst = [(u - x0, v - y0) for u, v in uv]
        tw, th = texture.size
        src = [(0, 0), (tw, 0), (tw, th), (0, th)]
        coeffs = perspective_coeffs(dst, src)
        warped = texture.convert("RGBA").transform(
            (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
        )
        r, g, b, a = warped.split()
        rgb = Image.merge("RGB", (r, g, b)).point(lambda c: max(0, min(255, int(c * level))))
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).polygon(dst, fill=255)
        mask = ImageChops.multiply(mask, a)
        self.img.paste(rgb, (x0, y0), mask)
        if x1 > W:
            self.img.paste(rgb, (x0 - W, y0), mask)

    def finish(self, seed):
        glow = wrap_blur(self.glow, 14)
        img = ImageChops.add(self.img, glow)
        img = wrap_blur(img, 0.6)
        # gentle gamma lift: underground photos are dark, but the hazards must stay readable
        lut = [min(255, int(255 * (i / 255) ** 0.8)) for i in range(256)]
        img = img.point(lut * 3)
        grain = Image.new("L", (W // 2, H // 2))
        rng = random.Random(seed)
        grain.putdata([128 + int(rng.gauss(0, 10)) for _ in range(W // 2 * H // 2)])
        grain = grain.resize((W, H), Image.Resampling.BILINEAR).convert("RGB")
        img = ImageChops.add(img, grain, scale=1.0, offset=-128)
        return img


def wrap_blur(img, radius):
    """Gaussian blur that wraps around the left/right seam of the panorama."""
    pad = int(radius * 4) + 2
    wide = Image.new(img.mode, (W + 2 * pad, H))
    wide.paste(img, (pad, 0))
    wide.paste(img.crop((W - pad, 0, W, H)), (0, 0))
    wide.paste(img.crop((0, 0, pad, H)), (W + pad, 0))
    return wide.filter(ImageFilter.GaussianBlur(radius)).crop((pad, 0, pad + W, H))


def perspective_coeffs(dst, src):
    """Coefficients for Image.transform(PERSPECTIVE): map output points dst to input src."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=False):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rhs.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.append(v)
    n = 8
    m = [row + [b] for row, b in zip(rows, rhs, strict=False)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col and m[col][col]:
                f = m[r][col] / m[col][col]
                m[r] = [a - f * b for a, b in zip(m[r], m[col], strict=False)]
    return [m[i][n] / m[i][i] for i in range(n)]


# ---------------------------------------------------------------- textures


def font(size):
    for path, index in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size, index=index), True
        except OSError:
            continue
    return ImageFont.load_default(), False


def sign_texture(lines, bg, fg, arrow=None, figure=None, size=(400, 200)):
    img = Image.new("RGBA", size, bg + (255,))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rectangle([4, 4, w - 5, h - 5], outline=fg, width=6)
    x_text = 20
    if figure == "runner":
        cx, cy = 70, h // 2
        d.ellipse([cx - 4, cy - 62, cx + 22, cy - 36], fill=fg)
        d.line([(cx + 6, cy - 34), (cx - 10, cy + 10)], fill=fg, width=14)
        d.line([(cx - 10, cy + 10), (cx + 22, cy + 38), (cx + 10, cy + 70)], fill=fg, width=12)
        d.line([(cx - 10, cy + 10), (cx - 36, cy + 36), (cx - 56, cy + 40)], fill=fg, width=12)
        d.line([(cx + 2, cy - 22), (cx + 30, cy - 6), (cx + 44, cy - 18)], fill=fg, width=10)
        d.line([(cx + 2, cy - 22), (cx - 24, cy - 8), (cx - 36, cy + 8)], fill=fg, width=10)
        x_text = 130
    elif figure == "house":
        cx, cy = 70, h // 2
        d.polygon([(cx - 48, cy - 4), (cx, cy - 52), (cx + 48, cy - 4)], fill=fg)
        d.rectangle([cx - 36, cy - 4, cx + 36, cy + 52], fill=fg)
        d.rectangle([cx - 12, cy + 14, cx + 12, cy + 52], fill=bg)
        x_text = 130
    y = 22
    for text, size_px in lines:
        f, _ = font(size_px)
        d.text((x_text, y), text, fill=fg, font=f)
        y += int(size_px * 1.25)
    if arrow == "right":
        d.polygon(
            [
                (w - 110, h - 58),
                (w - 50, h - 58),
                (w - 50, h - 78),
                (w - 18, h - 44),
                (w - 50, h - 10),
                (w - 50, h - 30),
                (w - 110, h - 30),
            ],
            fill=fg,
        )
    if arrow == "left":
        d.polygon(
            [
                (110, h - 58),
                (50, h - 58),
                (50, h - 78),
                (18, h - 44),
                (50, h - 10),
                (50, h - 30),
                (110, h - 30),
            ],
            fill=fg,
        )
    return img


def display_texture(text, on=True):
    img = Image.new("RGBA", (120, 60), (20, 20, 22, 255))
    d = ImageDraw.Draw(img)
    if on:
        f, _ = font(34)
        d.rectangle([6, 6, 113, 53], fill=(10, 40, 12))
        d.text((12, 8), text, fill=(90, 255, 110), font=f)
    else:
        d.rectangle([6, 6, 113, 53], fill=(12, 12, 14))
    return img


# ---------------------------------------------------------------- the roadway


def x_slices():
    xs, x = [], -REACH
    while x < REACH - 1e-9:
        xs.append(round(x, 4))
        ax = abs(x)
        x += 0.125 if ax < 4 else 0.25 if ax < 10 else 0.5 if ax < 20 else 1.0
    xs.append(REACH)
    return xs


def cross_section():
    """Perimeter samples (kind, param): floor y, right wall z, arch phi, left wall z."""
    samples = []
    n = 26
    samples += [("floor", -HALF + 2 * HALF * k / n) for k in range(n + 1)]
    n = 10
    samples += [("rwall", FLOOR + (SPRING - FLOOR) * k / n) for k in range(1, n + 1)]
    n = 44
    samples += [("arch", math.pi * k / n) for k in range(1, n)]
    n = 10
    samples += [("lwall", SPRING - (SPRING - FLOOR) * k / n) for k in range(0, n + 1)]
    return samples


def section_point(x, kind, t):
    if kind == "floor":
        return (x, t, FLOOR)
    if kind == "rwall":
        return (x, HALF, t)
    if kind == "lwall":
        return (x, -HALF, t)
    return arch_point(x, t)


def section_normal(kind, t):
    return {"floor": (0.0, 0.0, 1.0), "rwall": (0.0, -1.0, 0.0), "lwall": (0.0, 1.0, 0.0)}.get(
        kind
    ) or arch_normal(t)


ROCK = (118, 112, 104)
COAL = (62, 60, 60)
FLOOR_COLOUR = (70, 63, 55)


def surface_colour(p, kind, noise):
    x, y, z = p
    if kind == "floor":
        base = FLOOR_COLOUR
        k = 0.8 + 0.4 * noise(x * 1.3, y * 1.3)
    else:
        # a coal band low on the walls, grey sandstone roof above
        base = COAL if z < -0.4 + 0.3 * noise(x * 0.5, 7.0) else ROCK
        k = 0.78 + 0.44 * noise(x * 1.7 + y * 0.9, z * 1.7)
    return tuple(c * k for c in base)


def draw_shell(p, noise, rng, holes):
    xs = x_slices()
    section = cross_section()
    # poles first: the few patches around the zenith and nadir are skipped by the painter
    top = (0.0, 0.0, SPRING + HALF)
    bottom = (0.0, 0.0, FLOOR)
    p.draw.rectangle([0, 0, W, int(H * 0.07)], fill=lit(ROCK, light_at(top, (0, 0, -1)) * 0.9))
    p.draw.rectangle([0, int(H * 0.93), W, H], fill=lit(FLOOR_COLOUR, light_at(bottom, (0, 0, 1))))
    for x0, x1 in zip(xs, xs[1:], strict=False):
        for (k0, t0), (k1, t1) in zip(section, section[1:], strict=False):
            kind = k0 if k0 == k1 else k1
            quad = [
                section_point(x0, k0, t0),
                section_point(x1, k0, t0),
                section_point(x1, k1, t1),
                section_point(x0, k1, t1),
            ]
            c = centroid(quad)
            colour = jitter(surface_colour(c, kind, noise), rng, 0.05)
            for hole in holes:
                if hole(c):
                    colour = (30, 27, 25)
            p.polygon(quad, lit(colour, light_at(c, section_normal(kind, t0))))


def mesh_zone(kind, t):
    if kind == "arch":
        return True
    return kind in ("rwall", "lwall") and t > -0.9


def draw_mesh_and_bolts(p, rng, holes, reach=20.0):
    section = [s for s in cross_section() if mesh_zone(*s)]
    mesh_colour = (150, 148, 144)
    # longitudinal wires every 0.125 m of perimeter: sample the section more densely
    dense = []
    for (k0, t0), (k1, t1) in zip(section, section[1:], strict=False):
        if k0 != k1:
            dense.append((k0, t0))
            continue
        for j in range(2):
            dense.append((k0, t0 + (t1 - t0) * j / 2))
    dense.append(section[-1])
    inset = 0.02

    def on_surface(x, kind, t):
        q = section_point(x, kind, t)
        return add(q, mul(section_normal(kind, t), inset))

    xs = [x for x in x_slices() if abs(x) <= reach]
    for kind, t in dense:
        n = section_normal(kind, t)
        run = []
        for x in xs:
            q = on_surface(x, kind, t)
            if any(h(q) for h in holes):
                if len(run) > 1:
                    p.line(run, mesh_colour, normal=n)
                run = []
                continue
            run.append(q)
        if len(run) > 1:
            p.line(run, mesh_colour, normal=n)
    x = -reach
    while x <= reach:
        for (k0, t0), (k1, t1) in zip(dense, dense[1:], strict=False):
            a, b = on_surface(x, k0, t0), on_surface(x, k1, t1)
            if any(h(a) or h(b) for h in holes):
                continue
            p.line([a, b], mesh_colour, normal=section_normal(k0, t0))
        x += 0.125 if abs(x) < 8 else 0.25
    # bolts with square plates every 0.9 m
    bolt_rows = [("arch", math.pi * k / 9) for k in range(1, 9)] + [
        ("rwall", -0.2),
        ("lwall", -0.2),
    ]
    x = -reach + 0.45
    while x <= reach:
        for kind, t in bolt_rows:
            centre = on_surface(x, kind, t)
            if any(h(centre) for h in holes):
                continue
            n = section_normal(kind, t)
            # tangent vectors: along x, and along the perimeter
            ta = (1.0, 0.0, 0.0)
            tb = unit((0.0, -n[2], n[1])) if kind == "arch" else (0.0, 0.0, 1.0)
            s = 0.08
            quad = [
                add(centre, add(mul(ta, -s), mul(tb, -s))),
                add(centre, add(mul(ta, s), mul(tb, -s))),
                add(centre, add(mul(ta, s), mul(tb, s))),
                add(centre, add(mul(ta, -s), mul(tb, s))),
            ]
            p.polygon(quad, lit((150, 146, 140), light_at(centre, n)))
            u, v = project(add(centre, mul(n, 0.03)))
            r = max(1.0, 0.03 * PX_PER_RAD / norm(centre))
            p.draw.ellipse(
                [u - r, v - r, u + r, v + r], fill=lit((60, 58, 55), light_at(centre, n))
            )
        x += 0.9


def box(p, lo, hi, colours, items):
    """Queue the faces of an axis-aligned box that face the camera (depth-sorted later)."""
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    faces = {
        "-x": ([(x0, y0, z0), (x0, y1, z0), (x0, y1, z1), (x0, y0, z1)], (-1, 0, 0)),
        "+x": ([(x1, y0, z0), (x1, y0, z1), (x1, y1, z1), (x1, y1, z0)], (1, 0, 0)),
        "-y": ([(x0, y0, z0), (x0, y0, z1), (x1, y0, z1), (x1, y0, z0)], (0, -1, 0)),
        "+y": ([(x0, y1, z0), (x1, y1, z0), (x1, y1, z1), (x0, y1, z1)], (0, 1, 0)),
        "-z": ([(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0)], (0, 0, -1)),
        "+z": ([(x0, y0, z1), (x0, y1, z1), (x1, y1, z1), (x1, y0, z1)], (0, 0, 1)),
    }
    for name, (quad, n) in faces.items():
        c = centroid(quad)
        if dot(n, c) >= 0:  # faces away from the camera
            continue
        colour = colours.get(name, colours.get("*")) if isinstance(colours, dict) else colours
        shade = {"+z": 1.0, "-z": 0.55}.get(name, 0.8)
        items.append((norm(c), "poly", (subdivide_quad(quad), lit(colour, light_at(c, n) * shade))))


def subdivide_quad(quad, n=None):
    """Split a quad so that long faces bend correctly in the projection."""
    a, b, c, d = quad
    length = max(norm(sub(b, a)), norm(sub(d, a)))
    n = n or max(1, min(12, int(length / 0.25)))
    if n == 1:
        return [quad]
    out = []
    for i in range(n):
        for j in range(n):

            def at(s, t):
                top = add(a, mul(sub(b, a), s))
                bottom = add(d, mul(sub(c, d), s))
                return add(top, mul(sub(bottom, top), t))

            s0, s1, t0, t1 = i / n, (i + 1) / n, j / n, (j + 1) / n
            out.append([at(s0, t0), at(s1, t0), at(s1, t1), at(s0, t1)])
    return out


def cylinder_x(x0, x1, cy, cz, r, colour, items, facets=14, step=0.5, ring=None):
    """A cylinder along x (duct, pipe, motor) as camera-facing facets."""
    x = x0
    while x < x1 - 1e-9:
        xe = min(x1, x + (step if abs(x) < 12 else step * 3))
        for k in range(facets):
            a0, a1 = 2 * math.pi * k / facets, 2 * math.pi * (k + 1) / facets
            n = (0.0, math.cos((a0 + a1) / 2), math.sin((a0 + a1) / 2))
            pts = [
                (x, cy + r * math.cos(a0), cz + r * math.sin(a0)),
                (xe, cy + r * math.cos(a0), cz + r * math.sin(a0)),
                (xe, cy + r * math.cos(a1), cz + r * math.sin(a1)),
                (x, cy + r * math.cos(a1), cz + r * math.sin(a1)),
            ]
            c = centroid(pts)
            if dot(n, c) >= 0:
                continue
            col = colour
            if ring and (math.floor(x / ring) % 2):
                col = tuple(v * 0.82 for v in colour)
            items.append((norm(c), "poly", ([pts], lit(col, light_at(c, n)))))
        x = xe


def cylinder_y(cx, y0, y1, cz, r, colour, items, facets=16):
    """A cylinder along y (drum, motor across the belt), with its end caps."""
    for k in range(facets):
        a0, a1 = 2 * math.pi * k / facets, 2 * math.pi * (k + 1) / facets
        n = (math.cos((a0 + a1) / 2), 0.0, math.sin((a0 + a1) / 2))
        pts = [
            (cx + r * math.cos(a0), y0, cz + r * math.sin(a0)),
            (cx + r * math.cos(a0), y1, cz + r * math.sin(a0)),
            (cx + r * math.cos(a1), y1, cz + r * math.sin(a1)),
            (cx + r * math.cos(a1), y0, cz + r * math.sin(a1)),
        ]
        c = centroid(pts)
        if dot(n, c) >= 0:
            continue
        items.append((norm(c), "poly", (subdivide_quad(pts, 2), lit(colour, light_at(c, n)))))
    for yc, n in ((y0, (0, -1, 0)), (y1, (0, 1, 0))):
        cap = [
            (
                cx + r * math.cos(2 * math.pi * k / facets),
                yc,
                cz + r * math.sin(2 * math.pi * k / facets),
            )
            for k in range(facets)
        ]
        c = centroid(cap)
        if dot(n, c) < 0:
            items.append(
                (
                    norm(c) - 0.01,
                    "poly",
                    ([cap], lit(tuple(v * 0.85 for v in colour), light_at(c, n))),
                )
            )


def sag_line(a, b, sag, n=24):
    pts = []
    for k in range(n + 1):
        t = k / n
        q = add(a, mul(sub(b, a), t))
        pts.append((q[0], q[1], q[2] - sag * 4 * t * (1 - t)))
    return pts


# ---------------------------------------------------------------- scene parts

BELT_Y0, BELT_Y1 = -2.05, -1.05  # belt conveyor on the left of the walkway
BELT_Z = -0.75
DUCT = (1.55, 1.42, 0.3)  # ventilation duct: y, z of its axis, radius


def conveyor(items, rng, gaps=()):
    """Belt conveyor along the left side; gaps are (x0, x1) ranges without belt."""
    steel = (70, 96, 72)
    xs = [x for x in x_slices() if abs(x) <= 32]
    for x0, x1 in zip(xs, xs[1:], strict=False):
        if any(g0 < (x0 + x1) / 2 < g1 for g0, g1 in gaps):
            continue
        mid = (x0 + x1) / 2
        # troughed belt: two wings and a flat middle
        wings = [
            (BELT_Y0, BELT_Z + 0.16),
            (BELT_Y0 + 0.28, BELT_Z),
            (BELT_Y1 - 0.28, BELT_Z),
            (BELT_Y1, BELT_Z + 0.16),
        ]
        for (ya, za), (yb, zb) in zip(wings, wings[1:], strict=False):
            quad = [(x0, ya, za), (x1, ya, za), (x1, yb, zb), (x0, yb, zb)]
            c = centroid(quad)
            n = unit((0.0, -(zb - za), yb - ya))
            if n[2] < 0:
                n = mul(n, -1)
            items.append((norm(c) + 0.05, "poly", ([quad], lit((44, 43, 42), light_at(c, n)))))
        # coal on the belt
        if rng.random() < 0.7:
            items.append(
                (
                    norm((mid, -1.55, BELT_Z)) + 0.02,
                    "blob",
                    (
                        (mid + rng.uniform(-0.1, 0.1), rng.uniform(-1.8, -1.3), BELT_Z + 0.04),
                        rng.uniform(0.05, 0.11),
                        (30, 30, 32),
                        rng.random(),
                    ),
                )
            )
        # stringer on the walkway side, and the dark space under the belt
        for quad, colour, shade_n in (
            (
                [
                    (x0, BELT_Y1 + 0.02, BELT_Z + 0.02),
                    (x1, BELT_Y1 + 0.02, BELT_Z + 0.02),
                    (x1, BELT_Y1 + 0.02, BELT_Z - 0.12),
                    (x0, BELT_Y1 + 0.02, BELT_Z - 0.12),
                ],
                steel,
                (0, 1, 0),
            ),
            (
                [
                    (x0, BELT_Y1 - 0.05, BELT_Z - 0.12),
                    (x1, BELT_Y1 - 0.05, BELT_Z - 0.12),
                    (x1, BELT_Y1 - 0.05, FLOOR),
                    (x0, BELT_Y1 - 0.05, FLOOR),
                ],
                (30, 28, 26),
                (0, 1, 0),
            ),
        ):
            c = centroid(quad)
            items.append((norm(c), "poly", ([quad], lit(colour, light_at(c, shade_n)))))
    # legs and return idlers every 1.5 m
    x = -31.5
    while x < 31.5:
        if not any(g0 - 0.3 < x < g1 + 0.3 for g0, g1 in gaps):
            for yy in (BELT_Y1 + 0.03,):
                a, b = (x, yy, BELT_Z - 0.1), (x, yy, FLOOR)
                items.append((norm(mul(add(a, b), 0.5)) - 0.02, "line", ([a, b], steel, 0.03)))
            a, b = (x, BELT_Y1 + 0.03, FLOOR + 0.35), (x, BELT_Y0, FLOOR + 0.35)
            items.append((norm(mul(add(a, b), 0.5)) - 0.01, "line", ([a, b], (58, 58, 60), 0.05)))
        x += 1.5


def cables_right(items, drop=None):
    """Three power/signal cables on hangers along the right wall; `drop` unhooks the lowest."""
    heights = [
        (0.12, (35, 35, 36), 0.025),
        (-0.02, (35, 35, 36), 0.025),
        (-0.16, (190, 120, 40), 0.015),
    ]
    xs = [k * 1.2 for k in range(-26, 27)]
    y = HALF - 0.12
    for x in xs:
        a, b = (x, HALF - 0.02, 0.25), (x, HALF - 0.02, -0.3)
        items.append((norm(mul(add(a, b), 0.5)) + 0.02, "line", ([a, b], (110, 110, 112), 0.012)))
        for z, _c, _r in heights:
            a, b = (x, HALF - 0.02, z), (x, y - 0.04, z)
            items.append((norm(a), "line", ([a, b], (120, 120, 120), 0.008)))
    for idx, (z, colour, r) in enumerate(heights):
        for xa, xb in zip(xs, xs[1:], strict=False):
            if drop and idx == drop["cable"] and drop["x0"] <= xa < drop["x1"]:
                continue
            pts = sag_line((xa, y, z), (xb, y, z), 0.04, 8)
            items.append((norm(mul(add(pts[0], pts[-1]), 0.5)), "line", (pts, colour, r)))


def pipes_left(items):
    for z, colour, r in ((0.05, (60, 80, 140), 0.06), (-0.25, (120, 120, 118), 0.05)):
        xs = [x for x in x_slices() if abs(x) <= 34]
        for xa, xb in zip(xs[::2], xs[2::2], strict=False):
            pts = [(xa, -HALF + 0.12, z), (xb, -HALF + 0.12, z)]
            items.append((norm(mul(add(pts[0], pts[1]), 0.5)), "line", (pts, colour, r)))


def duct(items, tear=None):
    """Flexible ventilation duct hung under the roof on the right."""
    cy, cz, r = DUCT
    x0 = -34.0
    for xa, xb in [(x0, tear[0]), (tear[1], 34.0)] if tear else [(x0, 34.0)]:
        cylinder_x(xa, xb, cy, cz, r, (185, 140, 45), items, ring=0.6)
    x = -33.0
    while x < 33:
        a = (x, cy, cz + r)
        b = (x, cy, roof_z(cy) - 0.02)
        items.append((norm(a) + 0.01, "line", ([a, b], (120, 120, 120), 0.006)))
        x += 1.5
    return cy, cz, r


def methane_sensor(items, centre, display, on=True):
    """A methane sensor: grey box with a display facing the roadway centre."""
    x, y, z = centre
    w, dpt, h = 0.16, 0.12, 0.32
    lo, hi = (x - w / 2, y - dpt / 2, z - h / 2), (x + w / 2, y + dpt / 2, z + h / 2)
    box(None, lo, hi, {"*": (170, 170, 165)}, items)
    # the display on the face towards the camera side of the roadway
    face_y = lo[1] if y > 0 else hi[1]
    corners = [
        (x - 0.07, face_y - 0.005 * (1 if y > 0 else -1), z + 0.11),
        (x + 0.07, face_y - 0.005 * (1 if y > 0 else -1), z + 0.11),
        (x + 0.07, face_y - 0.005 * (1 if y > 0 else -1), z + 0.04),
        (x - 0.07, face_y - 0.005 * (1 if y > 0 else -1), z + 0.04),
    ]
    if y > 0:
        corners = [corners[1], corners[0], corners[3], corners[2]]
    items.append(
        (norm(centre) - 0.1, "quad", (corners, display_texture(display, on), 1.0 if on else None))
    )


def sign(items, corners, texture):
    # signs are fixed clear of the cables and pipes in front of the wall: paint them last
    items.append((norm(centroid(corners)) - 0.8, "quad", (corners, texture, None)))


def flush(p, items):
    for _depth, kind, data in sorted(items, key=lambda it: -it[0]):
        if kind == "poly":
            quads, colour = data
            for q in quads:
                p.polygon(q, colour)
        elif kind == "line":
            pts, colour, radius = data
            p.line(pts, colour, radius=radius)
        elif kind == "blob":
            centre, radius, colour, seed = data
            p.blob(centre, radius, colour, random.Random(seed))
        elif kind == "quad":
            corners, texture, level = data
            p.textured_quad(corners, texture, level or min(1.3, light_at(centroid(corners)) * 1.1))
        elif kind == "fixture":
            p.light_fixture(data)
    items.clear()


# ---------------------------------------------------------------- variants


def common_scene(p, rng, noise, holes, tear=None, cable_drop=None, belt_gaps=()):
    draw_shell(p, noise, rng, holes)
    draw_mesh_and_bolts(p, rng, holes)
    items = []
    for light in LIGHTS:
        lo = (light[0] - 0.3, -0.09, roof_z(0.0) - 0.16)
        hi = (light[0] + 0.3, 0.09, roof_z(0.0) - 0.02)
        box(p, lo, hi, {"*": (90, 90, 92)}, items)
        items.append((norm(light) - 0.2, "fixture", (light[0], 0.0, roof_z(0.0) - 0.17)))
    pipes_left(items)
    cables_right(items, drop=cable_drop)
    duct(items, tear=tear)
    conveyor(items, rng, gaps=belt_gaps)
    floor_litter(items, rng)
    return items


def induction_scene(p):
    """Main belt roadway with six hazards (the induction course's hazard-spotting drill)."""
    rng = random.Random(1)
    noise = ValueNoise(11)
    # 1. roof fall: bolts and mesh missing over a patch of roof ahead
    fall_x, fall_phi = 4.2, math.pi / 2 + 0.06

    def roof_fall(q):
        if q[2] < 1.2 or not fall_x - 1.6 < q[0] < fall_x + 1.6:
            return False
        phi = math.atan2(q[2] - SPRING, q[1])
        dx, dphi = (q[0] - fall_x) / 1.35, (phi - fall_phi) / 0.5
        wobble = 0.18 * math.sin(7 * phi + 3 * q[0])
        return dx * dx + dphi * dphi < 1 + wobble

    holes = [roof_fall]
    cable = {"cable": 2, "x0": 0.0, "x1": 3.6}
    items = common_scene(p, rng, noise, holes, cable_drop=cable, belt_gaps=[(2.1, 3.0)])
    hotspots = []

    # roof fall: broken rock in the cavity, a hanging strip of torn mesh, a rock pile below
    r2 = random.Random(21)
    for _ in range(60):
        phi = fall_phi + r2.uniform(-0.4, 0.4)
        x = fall_x + r2.uniform(-1.1, 1.1)
        q = arch_point(x, phi)
        if roof_fall(q):
            q = add(q, mul(arch_normal(phi), -0.15))
            items.append(
                (
                    norm(q) + 0.3,
                    "blob",
                    (
                        q,
                        r2.uniform(0.12, 0.26),
                        r2.choice([(58, 52, 47), (74, 68, 61), (40, 37, 34)]),
                        r2.random(),
                    ),
                )
            )
    for k in range(9):  # torn mesh hanging down from the edge of the fall
        x = fall_x - 0.9 + k * 0.22
        top = arch_point(x, fall_phi - 0.36 + 0.015 * k)
        pts = [add(top, (0.02 * math.sin(j * 1.7 + k), 0.07 * j, -0.13 * j)) for j in range(7)]
        items.append((norm(top) - 0.3, "line", (pts, (175, 172, 168), 0.008)))
    for k in range(4):
        x = fall_x - 0.6 + k * 0.25
        pts = [add(arch_point(x, fall_phi - 0.38), (0.0, 0.09 * j, -0.12 * j)) for j in range(6)]
        pts = [(x + 0.125, q[1], q[2]) for q in pts]
        items.append((norm(pts[0]) - 0.3, "line", (pts, (175, 172, 168), 0.008)))
    bolt_top = arch_point(fall_x + 0.5, fall_phi + 0.2)
    bolt_end = add(bolt_top, (0.3, -0.35, -0.9))
    items.append((norm(bolt_top) - 0.35, "line", ([bolt_top, bolt_end], (120, 110, 100), 0.012)))
    items.append((norm(bolt_end) - 0.36, "blob", (bolt_end, 0.09, (150, 146, 140), 0.3)))
    for _k in range(24):  # fallen rock on the floor below
        q = (fall_x + r2.uniform(-1.2, 1.4), r2.uniform(-0.8, 1.0), FLOOR + 0.1)
        items.append(
            (
                norm(q),
                "blob",
                (
                    q,
                    r2.uniform(0.15, 0.34),
                    r2.choice([(96, 90, 82), (75, 70, 64), (110, 104, 96)]),
                    r2.random(),
                ),
            )
        )
    hotspots.append(("roof_fall", arch_point(fall_x, fall_phi)))

    # 2. damaged cable off its hangers, sagging to the walkway with bare cores
    y = HALF - 0.12
    pts = sag_line((0.0, y, -0.16), (3.6, y - 0.25, -0.16), 1.15, 30)
    items.append((norm(pts[15]) - 0.05, "line", (pts[:14], (190, 120, 40), 0.015)))
    items.append((norm(pts[15]) - 0.05, "line", (pts[17:], (190, 120, 40), 0.015)))
    lowest = pts[15]
    for k, colour in enumerate([(240, 150, 60), (250, 175, 80), (70, 110, 230), (235, 140, 50)]):
        a, b = pts[14], pts[17]
        mid = add(mul(add(a, b), 0.5), (0.05 * (k - 1.5), -0.05 * k, -0.1 - 0.05 * k))
        items.append((norm(lowest) - 0.06, "line", ([a, mid, b], colour, 0.014)))
    hotspots.append(("damaged_cable", lowest))

    # 3. conveyor drive head with the coupling guard removed (guard lying on the floor)
    drum_x = 2.55
    cylinder_y(drum_x, BELT_Y0 - 0.05, BELT_Y1 + 0.05, BELT_Z - 0.2, 0.3, (70, 96, 72), items)
    box(
        p, (drum_x - 0.3, -1.0, FLOOR), (drum_x + 0.3, -0.72, -0.7), {"*": (70, 96, 72)}, items
    )  # reducer
    cylinder_y(drum_x, -0.72, -0.55, -1.05, 0.13, (230, 60, 40), items, facets=12)  # coupling
    cylinder_y(drum_x, -0.55, 0.1, -1.05, 0.24, (60, 90, 130), items)  # motor
    box(
        p,
        (drum_x - 0.35, -1.0, FLOOR),
        (drum_x + 0.35, 0.15, FLOOR + 0.25),
        {"*": (60, 60, 62)},
        items,
    )
    for k in range(6):  # the removed guard: a yellow mesh cage lying on the floor
        a = (1.0 + 0.1 * k, -0.2, FLOOR + 0.02)
        b = (1.0 + 0.1 * k, 0.35, FLOOR + 0.02)
        items.append((norm(a) - 0.1, "line", ([a, b], (220, 190, 40), 0.01)))
    for k in range(4):
        a = (1.0, -0.2 + 0.18 * k, FLOOR + 0.02)
        b = (1.5, -0.2 + 0.18 * k, FLOOR + 0.02)
        items.append((norm(a) - 0.1, "line", ([a, b], (220, 190, 40), 0.01)))
    hotspots.append(("unguarded_drive", (drum_x, -0.63, -1.05)))

    # 4. escape-route sign hidden behind material piled across the walkway
    sign(
        items,
        [
            (-2.7, HALF - 0.01, -0.05),
            (-3.7, HALF - 0.01, -0.05),
            (-3.7, HALF - 0.01, -0.55),
            (-2.7, HALF - 0.01, -0.55),
        ],
        sign_texture(
            [("避灾路线", 48), ("ESCAPE ROUTE", 30)],
            (0, 130, 70),
            (255, 255, 255),
            arrow="right",
            figure="runner",
        ),
    )
    for k in range(5):  # timber props stacked crosswise
        z = FLOOR + 0.1 + k * 0.17
        a, b = (-3.0 - 0.08 * (k % 2), 0.55, z), (-3.1 + 0.06 * (k % 2), HALF - 0.1, z)
        items.append((3.0, "line", ([a, b], (150, 110, 70), 0.08)))
    for _k in range(14):  # bags of rock dust heaped in front of the sign
        q = (-3.2 + r2.uniform(-0.5, 0.5), r2.uniform(1.5, 2.25), FLOOR + 0.95 + r2.uniform(0, 0.3))
        items.append((2.8, "blob", (q, r2.uniform(0.2, 0.3), (200, 196, 186), r2.random())))
    cylinder_y(-2.4, 1.25, 1.9, FLOOR + 0.55, 0.55, (120, 70, 40), items)  # a cable drum
    hotspots.append(("blocked_escape", (-3.2, 1.5, -0.35)))

    # 5. methane sensor hung far too low on the right and switched off
    sensor = (-1.2, HALF - 0.25, -0.85)
    a, b = (sensor[0], sensor[1], sensor[2] + 0.16), (sensor[0], HALF - 0.02, 0.25)
    items.append((norm(sensor) + 0.1, "line", ([a, b], (150, 150, 150), 0.004)))
    methane_sensor(items, sensor, "", on=False)
    hotspots.append(("low_sensor", sensor))

    # 6. water across the walkway behind
    puddle = []
    r3 = random.Random(5)
    for k in range(22):
        a = 2 * math.pi * k / 22
        rr = 1 + r3.uniform(-0.12, 0.12)
        puddle.append((-4.8 + 1.6 * rr * math.cos(a), -0.35 + 0.6 * rr * math.sin(a), FLOOR + 0.01))
    items.append((5.5, "water", puddle))
    hotspots.append(("water", (-4.8, -0.35, FLOOR)))

    # non-hazards: correctly hung methane sensor (<= 300 mm under the roof), refuge-chamber sign
    good = (-3.0, -1.2, roof_z(-1.2) - 0.3)
    a, b = (good[0], good[1], good[2] + 0.16), (good[0], good[1], roof_z(-1.2) - 0.02)
    items.append((norm(good) + 0.1, "line", ([a, b], (150, 150, 150), 0.004)))
    methane_sensor(items, good, "0.08")
    hotspots.append(("good_sensor", good))
    # on the right wall the sign's left edge is its +x end (the viewer faces +y)
    sign(
        items,
        [
            (4.0, HALF - 0.01, 0.5),
            (2.9, HALF - 0.01, 0.5),
            (2.9, HALF - 0.01, 0.0),
            (4.0, HALF - 0.01, 0.0),
        ],
        sign_texture(
            [("避难硐室 200 m", 44), ("REFUGE CHAMBER", 30)],
            (0, 130, 70),
            (255, 255, 255),
            arrow="left",
            figure="house",
        ),
    )
    hotspots.append(("refuge_sign", (3.45, HALF, 0.25)))
    return items, hotspots


def refresher_scene(p):
    """Belt roadway near a working face with a different set of five hazards."""
    rng = random.Random(2)
    noise = ValueNoise(22)
    # a bulging mesh pocket of loose rock over the walkway (roof separation)
    pocket_x, pocket_phi = -2.6, math.pi / 2 - 0.42
    tear = (2.4, 3.3)
    items = common_scene(p, rng, noise, [], tear=tear)
    hotspots = []
    r2 = random.Random(31)

    # 1. torn ventilation duct: a gap with the duct ends flapping
    cy, cz, r = DUCT
    for k in range(10):
        a = 2 * math.pi * k / 10
        end = (tear[0] + 0.05, cy + r * math.cos(a), cz + r * math.sin(a))
        flap = add(end, (0.25 + 0.1 * math.sin(3 * k), 0.05 * math.cos(a), -0.25 - 0.1 * (k % 3)))
        items.append((norm(end) - 0.05, "line", ([end, flap], (200, 150, 40), 0.03)))
    hotspots.append(("torn_duct", (sum(tear) / 2, cy, cz)))

    # 2. explosion-proof switch with its cover open (loss of explosion-proofing)
    sw_lo, sw_hi = (-1.6, HALF - 0.55, FLOOR + 0.35), (-0.9, HALF - 0.05, FLOOR + 1.05)
    box(
        p,
        (-1.65, HALF - 0.6, FLOOR),
        (-0.85, HALF - 0.02, FLOOR + 0.35),
        {"*": (80, 80, 82)},
        items,
    )
    box(p, sw_lo, sw_hi, {"*": (70, 100, 150)}, items)
    inner = [
        (-1.55, sw_lo[1] - 0.002, sw_hi[2] - 0.06),
        (-0.95, sw_lo[1] - 0.002, sw_hi[2] - 0.06),
        (-0.95, sw_lo[1] - 0.002, sw_lo[2] + 0.06),
        (-1.55, sw_lo[1] - 0.002, sw_lo[2] + 0.06),
    ]
    items.append(
        (
            norm(centroid(inner)) - 0.3,
            "poly",
            ([[inner[1], inner[0], inner[3], inner[2]]], (25, 25, 28)),
        )
    )
    for k in range(5):  # wires inside the open enclosure
        a = (-1.5 + 0.1 * k, sw_lo[1] - 0.01, sw_hi[2] - 0.12)
        b = (-1.45 + 0.08 * k, sw_lo[1] - 0.01, sw_lo[2] + 0.12)
        items.append(
            (
                norm(a) - 0.35,
                "line",
                (
                    [a, b],
                    [(200, 60, 40), (60, 90, 200), (220, 200, 60), (40, 160, 60), (200, 60, 40)][k],
                    0.008,
                ),
            )
        )
    lid = [
        (-1.6, sw_lo[1] - 0.02, sw_hi[2]),
        (-1.6, sw_lo[1] - 0.6, sw_hi[2] - 0.05),
        (-1.6, sw_lo[1] - 0.6, sw_lo[2] - 0.05),
        (-1.6, sw_lo[1] - 0.02, sw_lo[2]),
    ]
    items.append(
        (norm(centroid(lid)) - 0.4, "poly", (subdivide_quad(lid, 3), lit((70, 100, 150), 1.4)))
    )
    hotspots.append(("open_switch", (-1.25, sw_lo[1], (sw_lo[2] + sw_hi[2]) / 2)))

    # 3. coal spillage piled against the return rollers under the belt (friction fire risk)
    for _k in range(70):
        t = r2.random()
        q = (r2.uniform(1.0, 3.6), -1.0 + 0.7 * t, FLOOR + 0.05 + 0.55 * (1 - t) * r2.random())
        items.append(
            (
                norm(q) - 0.2,
                "blob",
                (q, r2.uniform(0.08, 0.18), r2.choice([(34, 33, 35), (48, 46, 48)]), r2.random()),
            )
        )
    hotspots.append(("coal_spillage", (2.3, -0.85, FLOOR + 0.25)))

    # 4. mesh bulging with loose rock over the walkway
    centre = arch_point(pocket_x, pocket_phi)
    for _k in range(45):
        a, b = r2.uniform(-1, 1), r2.uniform(-1, 1)
        if a * a + b * b > 1:
            continue
        q = arch_point(pocket_x + 0.8 * a, pocket_phi + 0.22 * b)
        q = add(q, mul(arch_normal(pocket_phi), 0.05 + 0.35 * (1 - a * a - b * b)))
        items.append(
            (
                norm(q) - 0.1,
                "blob",
                (
                    q,
                    r2.uniform(0.08, 0.16),
                    r2.choice([(120, 112, 102), (90, 84, 76)]),
                    r2.random(),
                ),
            )
        )
    for k in range(13):  # the bulging mesh over the loose rock
        x = pocket_x - 0.9 + 0.15 * k
        bulge = max(0.0, 1 - ((x - pocket_x) / 0.9) ** 2)
        pts = [
            add(
                arch_point(x, pocket_phi + 0.27 - 0.06 * j),
                mul(arch_normal(pocket_phi), 0.45 * bulge * math.sin(math.pi * j / 9)),
            )
            for j in range(10)
        ]
        items.append((norm(centre) - 0.3, "line", (pts, (175, 175, 175), 0.006)))
    hotspots.append(("mesh_pocket", add(centre, mul(arch_normal(pocket_phi), 0.2))))

    # 5. fire extinguisher bracket on the wall, empty
    fx = 2.7
    box(
        p,
        (fx - 0.25, HALF - 0.06, -0.95),
        (fx + 0.25, HALF - 0.02, -0.25),
        {"*": (190, 40, 40)},
        items,
    )
    ghost = [
        (fx + 0.11, HALF - 0.065, -0.33),
        (fx - 0.11, HALF - 0.065, -0.33),
        (fx - 0.11, HALF - 0.065, -0.9),
        (fx + 0.11, HALF - 0.065, -0.9),
    ]
    items.append(
        (norm(centroid(ghost)) - 0.01, "poly", ([ghost], lit((235, 150, 140), 0.9)))
    )  # clean mark
    for k in range(2):  # the two empty hooks
        a = (fx - 0.12 + 0.24 * k, HALF - 0.07, -0.45)
        b = (fx - 0.12 + 0.24 * k, HALF - 0.22, -0.45)
        items.append((norm(a) - 0.05, "line", ([a, b], (200, 200, 200), 0.012)))
    # on the right wall the sign's left edge is its +x end (the viewer faces +y)
    sign(
        items,
        [
            (fx + 0.25, HALF - 0.01, -0.05),
            (fx - 0.25, HALF - 0.01, -0.05),
            (fx - 0.25, HALF - 0.01, -0.22),
            (fx + 0.25, HALF - 0.01, -0.22),
        ],
        sign_texture([("灭火器 EXTINGUISHER", 40)], (200, 30, 30), (255, 255, 255), size=(500, 80)),
    )
    hotspots.append(("empty_extinguisher", (fx, HALF - 0.05, -0.6)))

    # non-hazards: water spray curtain (dust suppression) and an isolated, tagged switch
    spray_x = -7.5
    a, b = (spray_x, -1.9, roof_z(-1.9) - 0.05), (spray_x, 1.9, roof_z(1.9) - 0.05)
    items.append((norm(a), "line", (sag_line(a, b, -0.4, 16), (150, 150, 150), 0.015)))
    for k in range(9):
        nozzle = (spray_x, -1.6 + 0.4 * k, roof_z(-1.6 + 0.4 * k) - 0.1)
        for j in range(5):
            tip = add(nozzle, (0.25 * (j - 2) * 0.3, 0.12 * (j - 2), -0.6 - 0.1 * (j % 2)))
            items.append((norm(nozzle) - 0.01, "line", ([nozzle, tip], (200, 210, 220), 0.004)))
    hotspots.append(("spray", (spray_x, -0.1, roof_z(0.0) - 0.5)))  # just off the ±180° seam
    lock_lo, lock_hi = (4.6, HALF - 0.5, FLOOR + 0.35), (5.3, HALF - 0.05, FLOOR + 1.05)
    box(
        p, (4.55, HALF - 0.55, FLOOR), (5.35, HALF - 0.02, FLOOR + 0.35), {"*": (80, 80, 82)}, items
    )
    box(p, lock_lo, lock_hi, {"*": (70, 100, 150)}, items)
    tag = [
        (4.75, lock_lo[1] - 0.01, FLOOR + 0.95),
        (5.15, lock_lo[1] - 0.01, FLOOR + 0.95),
        (5.15, lock_lo[1] - 0.01, FLOOR + 0.7),
        (4.75, lock_lo[1] - 0.01, FLOOR + 0.7),
    ]
    tag = [tag[1], tag[0], tag[3], tag[2]]
    sign(
        items,
        tag,
        sign_texture(
            [("有人工作", 56), ("不准送电", 56)], (200, 30, 30), (255, 255, 255), size=(300, 180)
        ),
    )
    hotspots.append(("lockout_tag", (4.95, lock_lo[1], FLOOR + 0.82)))
    return items, hotspots


def draw_water(p, puddle):
    """A puddle: dark reflective water with the reflections of the roof lights and ripples."""
    c = centroid(puddle)
    level = light_at(c, (0, 0, 1))
    p.polygon2d([project(q) for q in puddle], lit((150, 160, 170), level * 1.2))
    inner = [add(c, mul(sub(q, c), 0.9)) for q in puddle]
    p.polygon2d([project(q) for q in inner], lit((95, 112, 130), level * 1.3))
    xs = [q[0] for q in puddle]
    ys = [q[1] for q in puddle]
    for light in LIGHTS:
        # the light's mirror image below the floor, seen where the ray to it crosses the water
        mirror = (light[0], light[1], 2 * FLOOR - light[2])
        q = mul(mirror, FLOOR / mirror[2])
        if min(xs) + 0.3 < q[0] < max(xs) - 0.3 and min(ys) + 0.2 < q[1] < max(ys) - 0.2:
            u, v = project(q)
            r = max(3.0, 0.5 * PX_PER_RAD / norm(mirror))
            p.draw.ellipse([u - 2 * r, v - r * 0.5, u + 2 * r, v + r * 0.5], fill=(215, 215, 205))
            p.glow_draw.ellipse([u - 5 * r, v - r * 1.5, u + 5 * r, v + r * 1.5], fill=(60, 60, 55))
    r = random.Random(9)
    for _ in range(5):
        q = add(c, (r.uniform(-0.9, 0.9), r.uniform(-0.3, 0.3), 0.0))
        u, v = project(q)
        s = 6 + r.uniform(0, 10)
        p.draw.arc([u - s, v - s * 0.3, u + s, v + s * 0.3], 0, 360, fill=(125, 138, 150))
    for _ in range(6):  # drips from the roof above the water
        q = add(c, (r.uniform(-0.8, 0.8), r.uniform(-0.3, 0.3), 0.0))
        top = (q[0], q[1], roof_z(q[1]) - 0.1)
        p.line([top, add(top, (0.0, 0.0, -0.06))], (170, 185, 200), radius=0.006)


def floor_litter(items, rng):
    """Coal lumps and stones scattered on the floor near the camera."""
    for _ in range(160):
        x, y = rng.uniform(-9, 9), rng.uniform(-0.9, HALF - 0.2)
        if abs(x) < 0.6 and abs(y) < 0.6:
            continue
        q = (x, y, FLOOR + 0.02)
        items.append(
            (
                norm(q) + 0.5,
                "blob",
                (
                    q,
                    rng.uniform(0.02, 0.06),
                    rng.choice([(35, 34, 34), (50, 47, 44), (90, 85, 78)]),
                    rng.random(),
                ),
            )
        )


def render(variant):
    LIGHTS[:] = [(x, 0.0, 2.5) for x in LIGHT_ROWS[variant]]
    p = Painter()
    items, hotspots = (induction_scene if variant == "induction" else refresher_scene)(p)
    waters = [it for it in items if it[1] == "water"]
    items = [it for it in items if it[1] != "water"]
    for _depth, _kind, puddle in waters:
        draw_water(p, puddle)
    flush(p, items)
    img = p.finish(seed=7 if variant == "induction" else 8)
    return img, {name: yaw_pitch(point) for name, point in hotspots}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", choices=sorted(OUTPUTS), action="append")
    parser.add_argument("--out", type=Path, help="output JPEG (only with one --variant)")
    parser.add_argument("--quality", type=int, default=80)
    args = parser.parse_args()
    variants = args.variant or sorted(OUTPUTS)
    for variant in variants:
        img, hotspots = render(variant)
        out = args.out if args.out and len(variants) == 1 else OUTPUTS[variant]
        out.parent.mkdir(parents=True, exist_ok=True)
        img.save(out, "JPEG", quality=args.quality, optimize=True, progressive=True)
        print(
            json.dumps(
                {
                    "variant": variant,
                    "file": str(out),
                    "size": out.stat().st_size,
                    "hotspots": {k: {"yaw": y, "pitch": pt} for k, (y, pt) in hotspots.items()},
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
