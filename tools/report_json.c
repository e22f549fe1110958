#include <config.h>
#include "report.h"
int report_json(report_ctx *c)
{
    (void)c;
    return 1;
}
