"""Write README.md from nbs/index.ipynb (markdown cells verbatim, code cells as python blocks); `--check` fails if it is stale."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def render() -> str:
    nb = json.loads((ROOT/'nbs/index.ipynb').read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'): continue
        parts.append(src if c['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    head = '<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n'
    return head + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py`')
    else: readme.write_text(text)
