/* eh_frame.c: the unwind rule at one code address (see eh_frame.h).
 *
 * The format is the LSB's .eh_frame (DWARF call frame information with
 * GNU pointer encodings) and its .eh_frame_hdr binary-search table, which
 * every object the GNU toolchain links has, because C++ exceptions need it.
 * The sections are read in the memory the loader mapped; the walk below
 * never reads past the length each record gives for itself. */
#include <config.h> /* _GNU_SOURCE: dl_iterate_phdr */

#include "track/eh_frame.h"

#include <link.h>
#include <stddef.h>
#include <string.h>

#include "base/assert.h"

/* DWARF's register numbers on x86-64. */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16, NREGS = 17 };

/* ---- reading encoded values -------------------------------------------------- */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} reader;

static uint64_t rd_uleb(reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t rd_sleb(reader *r)
{
    int64_t v = 0;
    int shift = 0;
    while (r->p < r->end && shift < 64) {
        uint8_t b = *r->p++;
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= -((int64_t)1 << shift);
            return v;
        }
    }
    r->bad = true;
    return 0;
}

static const uint8_t *rd_bytes(reader *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

#define RD_FIXED(r, type)                                                                          \
    ({                                                                                             \
        type v_ = 0;                                                                               \
        const uint8_t *b_ = rd_bytes(r, sizeof(type));                                             \
        if (b_)                                                                                    \
            memcpy(&v_, b_, sizeof v_);                                                            \
        v_;                                                                                        \
    })

static uint8_t rd_u8(reader *r)
{
    return RD_FIXED(r, uint8_t);
}

/* DW_EH_PE_*: the low nibble is the format, the next three bits say what it
 * is relative to, 0x80 means "a pointer to the value". */
enum {
    PE_OMIT = 0xff,
    PE_ABSPTR = 0x00,
    PE_ULEB128 = 0x01,
    PE_UDATA2 = 0x02,
    PE_UDATA4 = 0x03,
    PE_UDATA8 = 0x04,
    PE_SLEB128 = 0x09,
    PE_SDATA2 = 0x0a,
    PE_SDATA4 = 0x0b,
    PE_SDATA8 = 0x0c,
    PE_PCREL = 0x10,
    PE_DATAREL = 0x30,
    PE_INDIRECT = 0x80,
};

/* datarel is relative to .eh_frame_hdr, the only place it is used. */
static uintptr_t rd_encoded(reader *r, uint8_t enc, uintptr_t datarel_base)
{
    if (enc == PE_OMIT)
        return 0;
    uintptr_t at = (uintptr_t)r->p;
    uintptr_t v;
    switch (enc & 0x0f) {
    case PE_ABSPTR:
        v = RD_FIXED(r, uintptr_t);
        break;
    case PE_ULEB128:
        v = (uintptr_t)rd_uleb(r);
        break;
    case PE_UDATA2:
        v = RD_FIXED(r, uint16_t);
        break;
    case PE_UDATA4:
        v = RD_FIXED(r, uint32_t);
        break;
    case PE_UDATA8:
        v = (uintptr_t)RD_FIXED(r, uint64_t);
        break;
    case PE_SLEB128:
        v = (uintptr_t)rd_sleb(r);
        break;
    case PE_SDATA2:
        v = (uintptr_t)(intptr_t)RD_FIXED(r, int16_t);
        break;
    case PE_SDATA4:
        v = (uintptr_t)(intptr_t)RD_FIXED(r, int32_t);
        break;
    case PE_SDATA8:
        v = (uintptr_t)RD_FIXED(r, int64_t);
        break;
    default:
        r->bad = true;
        return 0;
    }
    switch (enc & 0x70) {
    case 0:
        break;
    case PE_PCREL:
        v += at;
        break;
    case PE_DATAREL:
        v += datarel_base;
        break;
    default:
        r->bad = true;
        return 0;
    }
    if ((enc & PE_INDIRECT) && v && !r->bad)
        memcpy(&v, (const void *)v, sizeof v);
    return v;
}

/* ---- finding the FDE --------------------------------------------------------- */
struct fde_search {
    uintptr_t pc;
    const uint8_t *fde; /* the FDE record, at its length field */
};

static const uint8_t *hdr_lookup(const uint8_t *hdr, uintptr_t pc)
{
    /* version, eh_frame_ptr encoding, fde_count encoding, table encoding */
    if (hdr[0] != 1)
        return NULL;
    reader r = {hdr + 4, hdr + 4 + 2 * sizeof(uintptr_t) + 8, false};
    uintptr_t base = (uintptr_t)hdr;
    (void)rd_encoded(&r, hdr[1], base); /* eh_frame_ptr: unused, the table points at FDEs */
    uintptr_t count = rd_encoded(&r, hdr[2], base);
    /* The only table encoding the GNU linkers write: pairs of signed
     * 4-byte offsets from the header, sorted by initial location. */
    if (r.bad || hdr[3] != (PE_DATAREL | PE_SDATA4) || count == 0)
        return NULL;
    const int32_t *table = (const int32_t *)(const void *)r.p;
    size_t lo = 0, hi = count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (base + (intptr_t)table[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (base + (intptr_t)table[2 * lo] > pc)
        return NULL;
    return (const uint8_t *)(base + (intptr_t)table[2 * lo + 1]);
}

static int find_fde_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct fde_search *s = arg;
    const ElfW(Phdr) *hdr = NULL;
    bool inside = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && s->pc >= start && s->pc < start + ph->p_memsz)
            inside = true;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = ph;
    }
    if (!inside)
        return 0;
    if (hdr)
        s->fde = hdr_lookup((const uint8_t *)(info->dlpi_addr + hdr->p_vaddr), s->pc);
    return 1;
}

/* ---- the CFA program ----------------------------------------------------------- */
typedef enum { RULE_SAME, RULE_UNDEFINED, RULE_OFFSET, RULE_OTHER } rule_kind;

typedef struct {
    int cfa_reg;
    int64_t cfa_offset;
    bool cfa_simple;
    rule_kind kind[NREGS];
    int64_t offset[NREGS];
} cfa_state;

typedef struct {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    bool signal_frame;
    bool has_aug_data; /* 'z': each FDE carries augmentation data to skip */
    const uint8_t *insns, *insns_end;
} cie_info;

static bool parse_cie(const uint8_t *cie, cie_info *ci)
{
    reader r = {cie, cie + 4, false};
    uint32_t len = RD_FIXED(&r, uint32_t);
    if (len == 0 || len == 0xffffffffu) /* a terminator, or a 64-bit record */
        return false;
    r.end = cie + 4 + len;
    if (RD_FIXED(&r, uint32_t) != 0) /* a CIE's id is 0 in .eh_frame */
        return false;
    uint8_t version = rd_u8(&r);
    const char *aug = (const char *)r.p;
    size_t aug_len = strnlen(aug, (size_t)(r.end - r.p));
    if (!rd_bytes(&r, aug_len + 1))
        return false;
    ci->code_align = rd_uleb(&r);
    ci->data_align = rd_sleb(&r);
    ci->ra_reg = version == 1 ? rd_u8(&r) : rd_uleb(&r);
    ci->fde_enc = PE_ABSPTR;
    ci->signal_frame = false;
    ci->has_aug_data = aug[0] == 'z';
    if (aug[0] == 'z') {
        uint64_t n = rd_uleb(&r);
        reader a = {r.p, r.p + n, false};
        if (!rd_bytes(&r, n))
            return false;
        for (const char *c = aug + 1; *c; c++) {
            if (*c == 'R')
                ci->fde_enc = rd_u8(&a);
            else if (*c == 'L')
                (void)rd_u8(&a);
            else if (*c == 'P') {
                uint8_t enc = rd_u8(&a);
                /* Skip it; dereferencing an indirect one is not needed. */
                (void)rd_encoded(&a, enc & 0x7f, 0);
            } else if (*c == 'S')
                ci->signal_frame = true;
            else if (*c != 'B')
                return false;
        }
        if (a.bad)
            return false;
    } else if (aug[0] != '\0')
        return false;
    ci->insns = r.p;
    ci->insns_end = r.end;
    return !r.bad && ci->code_align != 0;
}

#define REMEMBER_DEPTH 8

/* Runs insns until the location passes pc. initial holds the CIE's rules
 * (for DW_CFA_restore); NULL while running the CIE's own program. */
static bool run_cfa(const uint8_t *p, const uint8_t *end, const cie_info *ci, uintptr_t loc,
                    uintptr_t pc, cfa_state *st, const cfa_state *initial)
{
    reader r = {p, end, false};
    cfa_state saved[REMEMBER_DEPTH];
    int nsaved = 0;
    while (r.p < r.end && !r.bad) {
        uint8_t op = rd_u8(&r);
        uint64_t reg = 0, delta = 0;
        int64_t off = 0;
        switch (op & 0xc0) {
        case 0x40: /* advance_loc */
            delta = (op & 0x3f) * ci->code_align;
            goto advance;
        case 0x80: /* offset */
            reg = op & 0x3f;
            off = (int64_t)rd_uleb(&r) * ci->data_align;
            goto set_offset;
        case 0xc0: /* restore */
            reg = op & 0x3f;
            goto restore;
        default:
            break;
        }
        switch (op) {
        case 0x00:
            continue; /* nop */
        case 0x02:
            delta = rd_u8(&r) * ci->code_align;
            goto advance;
        case 0x03:
            delta = RD_FIXED(&r, uint16_t) * ci->code_align;
            goto advance;
        case 0x04:
            delta = RD_FIXED(&r, uint32_t) * ci->code_align;
            goto advance;
        case 0x05: /* offset_extended */
            reg = rd_uleb(&r);
            off = (int64_t)rd_uleb(&r) * ci->data_align;
            goto set_offset;
        case 0x11: /* offset_extended_sf */
            reg = rd_uleb(&r);
            off = rd_sleb(&r) * ci->data_align;
            goto set_offset;
        case 0x06:
            reg = rd_uleb(&r);
            goto restore; /* restore_extended */
        case 0x07:        /* undefined */
        case 0x08:        /* same_value */
            reg = rd_uleb(&r);
            if (reg < NREGS)
                st->kind[reg] = op == 0x07 ? RULE_UNDEFINED : RULE_SAME;
            continue;
        case 0x09: /* register: a value kept in another register */
            reg = rd_uleb(&r);
            (void)rd_uleb(&r);
            if (reg < NREGS)
                st->kind[reg] = RULE_OTHER;
            continue;
        case 0x0a: /* remember_state */
            if (nsaved == REMEMBER_DEPTH)
                return false;
            saved[nsaved++] = *st;
            continue;
        case 0x0b: /* restore_state: the CFA too, as GCC and LLVM expect */
            if (nsaved == 0)
                return false;
            *st = saved[--nsaved];
            continue;
        case 0x0c: /* def_cfa */
            st->cfa_reg = (int)rd_uleb(&r);
            st->cfa_offset = (int64_t)rd_uleb(&r);
            st->cfa_simple = true;
            continue;
        case 0x12: /* def_cfa_sf */
            st->cfa_reg = (int)rd_uleb(&r);
            st->cfa_offset = rd_sleb(&r) * ci->data_align;
            st->cfa_simple = true;
            continue;
        case 0x0d: /* def_cfa_register */
            st->cfa_reg = (int)rd_uleb(&r);
            continue;
        case 0x0e:
            st->cfa_offset = (int64_t)rd_uleb(&r);
            continue; /* def_cfa_offset */
        case 0x13:
            st->cfa_offset = rd_sleb(&r) * ci->data_align;
            continue;
        case 0x0f: /* def_cfa_expression */
            if (!rd_bytes(&r, rd_uleb(&r)))
                return false;
            st->cfa_simple = false;
            continue;
        case 0x10: /* expression */
        case 0x16: /* val_expression */
            reg = rd_uleb(&r);
            if (!rd_bytes(&r, rd_uleb(&r)))
                return false;
            if (reg < NREGS)
                st->kind[reg] = RULE_OTHER;
            continue;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
            reg = rd_uleb(&r);
            if (op == 0x14)
                (void)rd_uleb(&r);
            else
                (void)rd_sleb(&r);
            if (reg < NREGS)
                st->kind[reg] = RULE_OTHER;
            continue;
        case 0x2e:
            (void)rd_uleb(&r);
            continue; /* GNU_args_size */
        case 0x2f:    /* GNU_negative_offset_extended */
            reg = rd_uleb(&r);
            off = -(int64_t)rd_uleb(&r) * ci->data_align;
            goto set_offset;
        default:
            return false; /* set_loc and anything newer */
        }
    advance:
        loc += delta;
        if (loc > pc)
            return !r.bad;
        continue;
    set_offset:
        if (reg < NREGS) {
            st->kind[reg] = RULE_OFFSET;
            st->offset[reg] = off;
        }
        continue;
    restore:
        if (reg < NREGS) {
            if (!initial)
                return false;
            st->kind[reg] = initial->kind[reg];
            st->offset[reg] = initial->offset[reg];
        }
        continue;
    }
    return !r.bad;
}

/* The state's answer, when it is one of the simple kinds eh_frame.h lists. */
static bool simple_rule(const cfa_state *st, tt_frame_rule *out)
{
    bool outermost = st->kind[REG_RA] == RULE_UNDEFINED;
    if (!st->cfa_simple || (st->cfa_reg != REG_RSP && st->cfa_reg != REG_RBP))
        return false;
    if (!outermost && !(st->kind[REG_RA] == RULE_OFFSET && st->offset[REG_RA] == -8))
        return false; /* x86-64 calls push the return address just below the CFA */
    if (st->kind[REG_RBP] != RULE_SAME && st->kind[REG_RBP] != RULE_OFFSET)
        return false;
    if (st->cfa_offset < INT32_MIN || st->cfa_offset > INT32_MAX ||
        st->offset[REG_RBP] < INT16_MIN || st->offset[REG_RBP] > INT16_MAX)
        return false;
    out->cfa_on_rbp = st->cfa_reg == REG_RBP;
    out->cfa_offset = (int32_t)st->cfa_offset;
    out->rbp_saved = st->kind[REG_RBP] == RULE_OFFSET;
    out->rbp_offset = out->rbp_saved ? (int16_t)st->offset[REG_RBP] : 0;
    out->outermost = outermost;
    return true;
}

static bool rule_from_fde(const uint8_t *fde, uintptr_t pc, tt_frame_rule *out)
{
    reader r = {fde, fde + 4, false};
    uint32_t len = RD_FIXED(&r, uint32_t);
    if (len == 0 || len == 0xffffffffu)
        return false;
    r.end = fde + 4 + len;
    const uint8_t *id_at = r.p;
    uint32_t cie_delta = RD_FIXED(&r, uint32_t);
    if (r.bad || cie_delta == 0)
        return false;
    cie_info ci;
    if (!parse_cie(id_at - cie_delta, &ci) || ci.signal_frame || ci.ra_reg != REG_RA)
        return false;
    uintptr_t begin = rd_encoded(&r, ci.fde_enc, 0);
    uintptr_t range = rd_encoded(&r, ci.fde_enc & 0x0f, 0);
    if (r.bad)
        return false;
    if (pc < begin || pc - begin >= range) {
        out->no_fde = true; /* the nearest FDE below pc ends before it */
        return false;
    }
    if (ci.has_aug_data && !rd_bytes(&r, rd_uleb(&r)))
        return false;
    cfa_state initial = {.cfa_reg = REG_RSP, .cfa_offset = 8, .cfa_simple = true};
    for (int i = 0; i < NREGS; i++)
        initial.kind[i] = RULE_SAME;
    if (!run_cfa(ci.insns, ci.insns_end, &ci, begin, UINTPTR_MAX, &initial, NULL))
        return false;
    cfa_state st = initial;
    return run_cfa(r.p, r.end, &ci, begin, pc, &st, &initial) && simple_rule(&st, out);
}

bool tt_eh_frame_rule(uintptr_t pc, tt_frame_rule *out)
{
    struct fde_search s = {pc, NULL};
    dl_iterate_phdr(find_fde_cb, &s);
    out->no_fde = s.fde == NULL;
    return s.fde && rule_from_fde(s.fde, pc, out);
}
