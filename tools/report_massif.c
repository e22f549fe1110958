#include <config.h>
#include "report.h"
int report_massif(report_ctx *c)
{
    (void)c;
    return 1;
}
