"The module graph of raad follows the chapters: a module imports only from lower-numbered chapters, at the top of the file (issue 15)."
import ast, re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def chapters() -> dict[str, int]:
    "module name -> chapter number, from the notebooks' `default_exp`."
    out = {}
    for nb in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')):
        m = re.search(r'#\| default_exp (\w+)', nb.read_text())
        if m: out[m.group(1)] = int(nb.name[:2])
    return out

def raad_imports(module: str) -> list[tuple[str, bool]]:
    "(imported raad module, imported at top level?) for each `from raad.X import` / `from .X import` in raad/<module>.py."
    tree = ast.parse((ROOT/'raad'/f'{module}.py').read_text())
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module.startswith('raad.') or node.level == 1):
            name = node.module.split('.')[-1] if node.module.startswith('raad.') else node.module
            found.append((name, id(node) in top))
    return found

def test_every_module_is_a_chapter():
    ch = chapters()
    mods = {p.stem for p in (ROOT/'raad').glob('*.py') if not p.stem.startswith('_')}
    assert mods == set(ch), mods ^ set(ch)
    assert len(set(ch.values())) == len(ch), 'two notebooks share a chapter number'

def test_imports_go_down_the_chapters():
    ch = chapters()
    bad = [(m, dep) for m in ch for dep, _ in raad_imports(m) if dep in ch and ch[dep] >= ch[m]]
    assert not bad, f"imports from a chapter at or above the importer: {bad}"

def test_no_hidden_imports_below_the_cli():
    "Imports inside functions hide the graph; only the console script (the last chapter) imports lazily, to start fast."
    ch = chapters(); last = max(ch, key=ch.get)
    hidden = [(m, dep) for m in ch if m != last for dep, top in raad_imports(m) if not top]
    assert not hidden, hidden
