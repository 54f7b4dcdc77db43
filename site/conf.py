"""Sphinx configuration of the series' site (``make site``; staged into build/site-src by helpers/site.py).

Everything the pages load is local: the theme's assets come with its wheel, MathJax is copied into
_static by helpers/site.py, and no widget JavaScript (RequireJS) is loaded. Notebooks are never
executed here: the site shows the outputs stored in notebooks/.
"""

project = "An R model behind AWS Lambda"
author = "the series' authors"
html_title = "An R model behind AWS Lambda"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# --- notebooks: stored outputs only
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}  # no RequireJS/widget scripts from a CDN (the series has no widgets)
nb_code_prompt_show = "Show code cell {type}"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# The README and docs use code spans for repository paths and are written for GitHub too.
suppress_warnings = ["myst.header", "myst.xref_missing"]

# --- math: MathJax 3 from _static (relative paths are relative to _static), SVG output (no fonts)
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"options": {"enableMenu": False}}

# --- theme
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["series.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "launch_buttons": {},
    "show_toc_level": 2,
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
# Search works from disk (searchindex.js is a script); its result snippets would fetch() each
# page, which a file:// page may not do, so the results list titles without snippets.
html_show_search_summary = False
