/* dwarf_name.c: function names from DWARF (see dwarf_name.h). */
#include <config.h>

#include "symbolize/dwarf_name.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* Where a function is declared: through DW_AT_abstract_origin (an inlined
 * or out-of-line instance) and DW_AT_specification (a definition outside
 * its class), to the entry that sits in its namespaces and classes. */
static void declaration(const sym_dw *dw, Dwarf_Die *die, Dwarf_Die *out)
{
    *out = *die;
    for (int hops = 0; hops < 8; hops++) { /* a loop in bad DWARF ends here */
        Dwarf_Attribute a;
        Dwarf_Attribute *at = dw->dwarf_attr(out, DW_AT_abstract_origin, &a);
        if (!at)
            at = dw->dwarf_attr(out, DW_AT_specification, &a);
        Dwarf_Die next;
        if (!at || !dw->dwarf_formref_die(at, &next))
            return;
        *out = next;
    }
}

static int is_cxx(const sym_dw *dw, Dwarf_Die *cu)
{
    int lang = dw->dwarf_srclang(cu);
    return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
           lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

/* name with the namespaces and classes around decl: a::B<int>::name, in
 * buf; name itself when there are none or they cannot be found. */
static const char *qualify(const sym_dw *dw, Dwarf_Die *decl, const char *name, char *buf,
                           size_t cap)
{
    Dwarf_Die *scopes = NULL;
    int n = dw->dwarf_getscopes_die(decl, &scopes); /* decl, its parents, ..., the CU */
    size_t len = 0;
    for (int i = n - 1; i >= 1; i--) {
        int tag = dw->dwarf_tag(&scopes[i]);
        const char *part = dw->dwarf_diename(&scopes[i]);
        if (tag == DW_TAG_namespace && !part)
            part = "(anonymous namespace)";
        else if (tag != DW_TAG_namespace && tag != DW_TAG_structure_type &&
                 tag != DW_TAG_class_type && tag != DW_TAG_union_type)
            continue;
        if (!part)
            continue;
        size_t k = strlen(part);
        if (len + k + 2 >= cap)
            break;
        memcpy(buf + len, part, k);
        memcpy(buf + len + k, "::", 2);
        len += k + 2;
    }
    free(scopes);
    size_t k = strlen(name);
    if (len == 0 || len + k >= cap)
        return name;
    memcpy(buf + len, name, k + 1);
    return buf;
}

const char *sym_dwarf_name(const sym_dw *dw, Dwarf_Die *die, Dwarf_Die *cu, char *buf, size_t cap)
{
    Dwarf_Attribute a;
    const char *link = dw->dwarf_formstring(dw->dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    if (!link)
        link = dw->dwarf_formstring(dw->dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
    if (link && link[0] == '_' && link[1] == 'Z')
        return link;
    const char *name = dw->dwarf_formstring(dw->dwarf_attr_integrate(die, DW_AT_name, &a));
    if (!name)
        return link;
    if (!is_cxx(dw, cu))
        return name;
    Dwarf_Die decl;
    declaration(dw, die, &decl);
    return qualify(dw, &decl, name, buf, cap);
}
