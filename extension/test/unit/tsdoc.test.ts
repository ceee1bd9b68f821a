import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

// Every exported symbol of extension/src (top-level declarations, and the
// public members of exported classes and interfaces) carries a TSDoc comment.
const src = path.resolve(__dirname, '..', '..', '..', 'extension', 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

function hasDoc(node: ts.Node, sf: ts.SourceFile): boolean {
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  return ranges.some((r) => sf.text.startsWith('/**', r.pos));
}

function exported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && !!ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  if (ts.isVariableStatement(node)) return node.declarationList.declarations.map((d) => d.name.getText(sf)).join(', ');
  const n = (node as { name?: ts.Node }).name;
  return n ? n.getText(sf) : node.getText(sf).slice(0, 40);
}

/** The undocumented exports of one file, as "file:line name". */
function undocumented(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const report = (node: ts.Node, name: string) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push(`${path.relative(src, file)}:${line} ${name}`);
  };
  for (const st of sf.statements) {
    if (!exported(st) || ts.isExportDeclaration(st)) continue;
    if (!hasDoc(st, sf)) report(st, nameOf(st, sf));
    if (ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st)) {
      for (const m of st.members) {
        if (ts.isConstructorDeclaration(m) || ts.isClassStaticBlockDeclaration(m) || ts.isIndexSignatureDeclaration(m)) continue;
        const mods = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
        if (mods.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword)) continue;
        if (m.name && ts.isPrivateIdentifier(m.name)) continue;
        if (!hasDoc(m, sf)) report(m, `${nameOf(st, sf)}.${m.name?.getText(sf) ?? '?'}`);
      }
    }
  }
  return out;
}

describe('TSDoc', () => {
  it('documents every exported symbol of extension/src', () => {
    const missing = files(src).flatMap(undocumented);
    assert.equal(missing.length, 0, `${missing.length} exported symbols lack a /** TSDoc */ comment:\n${missing.join('\n')}`);
  });
});
