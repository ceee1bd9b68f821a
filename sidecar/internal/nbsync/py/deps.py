# mcp-jupyter sync helper: which names each cell defines and uses, from
# Python's ast (after IPython's own transforms, so magics parse). Runs in the
# kernel only to see the same Python and IPython the cells run with; it never
# executes cell code.

import ast
import builtins

BUILTINS = set(dir(builtins))


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
        # obj.method(...) may change obj in place (df.dropna(inplace=True), lst.append).
        f = node.func
        if isinstance(f, ast.Attribute):
            base = f.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                self.defs.add(base.id)
        self.generic_visit(node)

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
        v.visit(tree)
        out.append({"defs": sorted(v.defs), "uses": sorted(v.uses - BUILTINS)})
    return {"cells": out}
