"""A real, playable MP4 for browser tests, written without any encoder.

tests/packages.mp4() writes only the movie header (enough for the duration the importer reads);
a browser refuses to play it. This one holds an H.264 video track that Chromium decodes: a
16×16 picture, every frame an IDR slice of one I_PCM macroblock (raw samples, so no transform
or entropy coding is needed), `fps` frames a second for `duration_seconds`.
"""

from __future__ import annotations

import struct


class _Bits:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(2 * code.bit_length() - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while len(self.bits) % 8:
            self.bits.append(0)

    def raw(self, data: bytes) -> None:
        for byte in data:
            self.u(8, byte)

    def rbsp(self) -> bytes:
        self.bits.append(1)  # rbsp_stop_one_bit
        self.align_zero()
        return bytes(int("".join(map(str, self.bits[i:i + 8])), 2)
                     for i in range(0, len(self.bits), 8))


def _nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    out = bytearray([(ref_idc << 5) | kind])
    zeros = 0
    for byte in rbsp:  # emulation prevention
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _sps() -> bytes:
    b = _Bits()
    b.u(8, 66)  # Baseline
    b.u(8, 0xC0)  # constraint_set0 and 1
    b.u(8, 10)  # level 1.0
    b.ue(0)  # seq_parameter_set_id
    b.ue(0)  # log2_max_frame_num_minus4
    b.ue(2)  # pic_order_cnt_type 2: output order is decoding order
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    b.ue(0)  # pic_width_in_mbs_minus1: 16 px
    b.ue(0)  # pic_height_in_map_units_minus1: 16 px
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    b.u(1, 0)  # frame_cropping_flag
    b.u(1, 0)  # vui_parameters_present_flag
    return _nal(3, 7, b.rbsp())


def _pps() -> bytes:
    b = _Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)  # weighted_pred_flag
    b.u(2, 0)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(1, 0)  # constrained_intra_pred_flag
    b.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, b.rbsp())


def _idr_frame(index: int) -> bytes:
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # slice_type: I (all slices of the picture)
    b.ue(0)  # pic_parameter_set_id
    b.u(4, 0)  # frame_num (0 in an IDR picture)
    b.ue(index % 2)  # idr_pic_id: consecutive IDR pictures differ
    b.u(1, 0)  # no_output_of_prior_pics_flag
    b.u(1, 0)  # long_term_reference_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc: off
    b.ue(25)  # mb_type I_PCM
    b.align_zero()  # pcm_alignment_zero_bit
    luma = 40 + (index * 7) % 180  # the picture brightens frame by frame: visibly moving
    b.raw(bytes([luma]) * 256 + bytes([128]) * 128)
    return _nal(3, 5, b.rbsp())


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def playable_mp4(duration_seconds: float, fps: int = 4) -> bytes:
    """An H.264 MP4 of `duration_seconds` (a whole number of frames at `fps`)."""
    frames = max(1, round(duration_seconds * fps))
    timescale = 1000
    delta = timescale // fps
    duration = frames * delta
    sps, pps = _sps(), _pps()
    samples = [struct.pack(">I", len(nal)) + nal for nal in (_idr_frame(i) for i in range(frames))]
    avcc = _box(b"avcC", bytes([1, 66, 0xC0, 10, 0xFF, 0xE1]), struct.pack(">H", len(sps)), sps,
                bytes([1]), struct.pack(">H", len(pps)), pps)
    avc1 = _box(b"avc1", b"\0" * 6, struct.pack(">H", 1), b"\0" * 16,
                struct.pack(">HHIIIH", 16, 16, 0x480000, 0x480000, 0, 1), b"\0" * 32,
                struct.pack(">Hh", 0x18, -1), avcc)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")

    def moov(chunk_offset: int) -> bytes:
        stbl = _box(b"stbl",
                    _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
                    _full(b"stts", 0, 0, struct.pack(">III", 1, frames, delta)),
                    _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, frames, 1)),
                    _full(b"stsz", 0, 0, struct.pack(">II", 0, frames),
                          b"".join(struct.pack(">I", len(s)) for s in samples)),
                    _full(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)))
        minf = _box(b"minf", _full(b"vmhd", 0, 1, b"\0" * 8),
                    _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1),
                                        _full(b"url ", 0, 1))), stbl)
        mdia = _box(b"mdia",
                    _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration,
                                                     0x55C4, 0)),
                    _full(b"hdlr", 0, 0, b"\0" * 4, b"vide", b"\0" * 12, b"video\0"), minf)
        tkhd = _full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration), b"\0" * 8,
                     struct.pack(">hhhH", 0, 0, 0, 0), MATRIX, struct.pack(">II", 16 << 16,
                                                                        16 << 16))
        mvhd = _full(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, duration),
                     struct.pack(">IH", 0x10000, 0x100), b"\0" * 10, MATRIX, b"\0" * 24,
                     struct.pack(">I", 2))
        return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))

    size = len(moov(0))
    mdat = _box(b"mdat", *samples)
    return ftyp + moov(len(ftyp) + size + 8) + mdat
