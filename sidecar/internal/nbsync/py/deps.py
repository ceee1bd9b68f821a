# mcp-jupyter sync helper: which names each cell defines and uses, from
# Python's ast (after IPython's own transforms, so magics parse). Runs in the
# kernel only to see the same Python and IPython the cells run with; it never
# executes cell code.

import ast
import builtins

BUILTINS = set(dir(builtins))


# Magics that run no cell code, and magics whose argument is Python code.
SAFE_MAGICS = {"matplotlib", "config", "pip", "conda", "cd", "pwd", "who", "whos", "ls", "env", "load_ext",
               "autoreload", "aimport", "precision", "history"}
CODE_MAGICS = {"time", "timeit", "prun", "capture"}


class Unknown(Exception):
    """The cell does something the analysis cannot follow."""


class _Visitor(ast.NodeVisitor):
    def __init__(self):
        self.defs = set()
        self.uses = set()

    def _target(self, node):
        # x = / x.attr = / x[i] = / a, b = : the base name is (re)defined.
        if isinstance(node, ast.Name):
            self.defs.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            base = node
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self.defs.add(base.id)
                self.uses.add(base.id)
            self.visit(node)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for e in node.elts:
                self._target(e)
        elif isinstance(node, ast.Starred):
            self._target(node.value)
        else:
            self.visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.uses.add(node.id)
        else:
            self.defs.add(node.id)

    def visit_Assign(self, node):
        self.visit(node.value)
        for t in node.targets:
            self._target(t)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self._target(node.target)
        if isinstance(node.target, ast.Name):
            self.uses.add(node.target.id)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self._target(node.target)

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(t)

    def visit_For(self, node):
        self.visit(node.iter)
        self._target(node.target)
        for n in node.body + node.orelse:
            self.visit(n)

    visit_AsyncFor = visit_For

    def visit_Call(self, node):
        if self._magic(node):
            return
        # obj.method(...) may change obj in place (df.dropna(inplace=True), lst.append).
        f = node.func
        if isinstance(f, ast.Attribute):
            base = f.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self.defs.add(base.id)
        self.generic_visit(node)

    def _magic(self, node):
        """get_ipython().run_line_magic/run_cell_magic/system: analyse what they run."""
        f = node.func
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call) and isinstance(f.value.func, ast.Name)
                and f.value.func.id == "get_ipython"):
            return False
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if f.attr in ("system", "getoutput"):
            return True
        if f.attr in ("run_line_magic", "run_cell_magic") and args and isinstance(args[0], str):
            name = args[0]
            if name in SAFE_MAGICS:
                return True
            if name in CODE_MAGICS:
                code = args[-1] if f.attr == "run_cell_magic" else args[1] if len(args) > 1 else None
                if isinstance(code, str):
                    try:
                        self.visit(ast.parse(code))
                        return True
                    except SyntaxError:
                        pass
            raise Unknown("magic %%%s" % name)
        return False

    def visit_Import(self, node):
        for a in node.names:
            self.defs.add((a.asname or a.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def _scope(self, node):
        self.defs.add(node.name)
        for d in getattr(node, "decorator_list", []):
            self.visit(d)
        # Free names inside a function or class body are uses of globals.
        inner = _Visitor()
        for n in node.body:
            inner.visit(n)
        args = set()
        if hasattr(node, "args"):
            for a in ast.walk(node.args):
                if isinstance(a, ast.arg):
                    args.add(a.arg)
                elif isinstance(a, ast.expr):
                    self.visit(a)  # defaults are evaluated at definition time
        self.uses |= inner.uses - args
        for n in ast.walk(node):
            if isinstance(n, ast.Global):
                self.defs.update(n.names)

    visit_FunctionDef = _scope
    visit_AsyncFunctionDef = _scope
    visit_ClassDef = _scope

    def visit_Lambda(self, node):
        inner = _Visitor()
        inner.visit(node.body)
        args = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        self.uses |= inner.uses - args

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self._target(node.target)


def analyze(args):
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except ImportError:
        ip = None
    out = []
    for src in args["sources"]:
        try:
            code = ip.transform_cell(src) if ip is not None else src
            tree = ast.parse(code)
        except SyntaxError as e:
            out.append({"error": "line %s: %s" % (e.lineno, e.msg)})
            continue
        v = _Visitor()
        try:
            v.visit(tree)
        except Unknown as e:
            out.append({"error": str(e)})
            continue
        out.append({"defs": sorted(v.defs), "uses": sorted(v.uses - BUILTINS)})
    return {"cells": out}
