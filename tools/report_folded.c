#include <config.h>
#include "report.h"
int report_folded(report_ctx *c)
{
    (void)c;
    return 1;
}
