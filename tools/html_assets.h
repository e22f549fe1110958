/* html_assets.h: the files the HTML page inlines, built into the tally
 * command from tools/html/ by tools/html/embed.sh (Makefile.am). */
#ifndef TALLY_HTML_ASSETS_H
#define TALLY_HTML_ASSETS_H

extern const char report_html_selection_js[];   /* d3-selection's (npm): d3.select for it */
extern const char report_html_flamegraph_js[];  /* d3-flame-graph's dist bundle (npm) */
extern const char report_html_flamegraph_css[]; /* its styles */
extern const char report_html_report_js[];      /* tools/html/report.js */
extern const char report_html_report_css[];     /* tools/html/report.css */

#endif
