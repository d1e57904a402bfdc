# Sphinx configuration of the imds.azure HTML docsite, built by `make docs` (tools/docs.sh) from the
# RST that antsibull-docs writes. Offline by design: no intersphinx (it would download inventories),
# links to other collections are plain URLs (antsibull-docs.cfg).
# pylint: disable=invalid-name

project = "imds.azure"
copyright = "imds.azure contributors"  # pylint: disable=redefined-builtin
title = "imds.azure collection documentation"
html_short_title = "imds.azure"

extensions = ["sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {"collapse_navigation": False, "analytics_id": ""}

default_role = "any"

# What intersphinx would resolve from docs.ansible.com's inventory, resolved offline: references to
# other collections' plugins and to a few pages of the Ansible documentation become plain links.
# Any other unresolved reference stays a warning (and tools/docs.sh builds with -W).
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
ANSIBLE_PAGES = {
    "ansible_configuration_settings": "reference_appendices/config.html",
    "facts_modules": "reference_appendices/config.html#facts-modules",
    "common_return_values": "reference_appendices/common_return_values.html",
    "action_plugins": "plugins/action.html",
    "inventory_plugins": "plugins/inventory.html",
    "filter_plugins": "plugins/filter.html",
}


def _ansible_docs_url(target):
    if target in ANSIBLE_PAGES:
        return ANSIBLE_DOCS + ANSIBLE_PAGES[target]
    parts = target.split(".")
    if len(parts) == 4 and parts[0] == "ansible_collections" and parts[1:3] != ["imds", "azure"]:
        namespace, name, plugin = parts[1:]
        return "%scollections/%s/%s/%s.html" % (ANSIBLE_DOCS, namespace, name, plugin)
    return None


def _resolve_offline(app, env, node, contnode):  # pylint: disable=unused-argument
    from docutils import nodes  # pylint: disable=import-outside-toplevel

    url = _ansible_docs_url(node.get("reftarget", ""))
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", _resolve_offline)
