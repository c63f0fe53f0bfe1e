"""The README's Python examples run as printed."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run_in_order(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no python examples"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert "(8, 3)" in capsys.readouterr().out
    cube = namespace["Cube"]
    tg = namespace["tg"]
    x = tg.tensor([2.0, -1.0], requires_grad=True)
    cube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0, 3.0]
