// Rewrites a cell so that its top-level declarations outlive it. The cell body runs
// inside `with (scope) { ... }`, so names the cell declares become properties of one
// persistent scope object: later cells see them, and running a cell again re-assigns
// instead of throwing "already declared". Only top-level statements change; every edit
// stays on its original line so error line numbers still point at the user's code.

import { parse } from 'acorn';

export const SCOPE = '__convbook_scope__';
// Every `await x` in a cell becomes `await AWAIT(x)` (see interrupt.js): a loop that only
// awaits timers or `null` still stops on Interrupt.
export const AWAIT = '__convbook_await__';

// Splices edits into the source by offset; nothing here inserts a newline.
class Edits {
  constructor(source) {
    this.source = source;
    this.list = [];
  }
  insert(at, text) {
    this.list.push({ start: at, end: at, text });
  }
  replace(start, end, text) {
    this.list.push({ start, end, text });
  }
  apply() {
    const sorted = this.list.map((e, i) => ({ ...e, i })).sort((a, b) => a.start - b.start || a.i - b.i);
    let out = '';
    let pos = 0;
    for (const e of sorted) {
      out += this.source.slice(pos, e.start) + e.text;
      pos = Math.max(pos, e.end);
    }
    return out + this.source.slice(pos);
  }
}

function patternNames(node, names) {
  switch (node.type) {
    case 'Identifier':
      names.push(node.name);
      break;
    case 'ObjectPattern':
      for (const p of node.properties) patternNames(p.type === 'RestElement' ? p.argument : p.value, names);
      break;
    case 'ArrayPattern':
      for (const el of node.elements) if (el) patternNames(el, names);
      break;
    case 'RestElement':
      patternNames(node.argument, names);
      break;
    case 'AssignmentPattern':
      patternNames(node.left, names);
      break;
  }
  return names;
}

// `const a = 1, {b} = o;` -> `void (a = 1, {b} = o);` (parenthesized so that object
// patterns are not read as blocks).
function rewriteVariables(node, source, edits) {
  edits.replace(node.start, node.start + node.kind.length, 'void (');
  for (const d of node.declarations) {
    if (!d.init && node.kind !== 'var') edits.insert(d.id.end, ' = undefined');
  }
  const hasSemicolon = source[node.end - 1] === ';';
  edits.insert(hasSemicolon ? node.end - 1 : node.end, hasSemicolon ? ')' : ');');
  return node.declarations.flatMap((d) => patternNames(d.id, []));
}

// `import x, {a as b} from "u"` -> `void ({default: x, a: b} = await import("u"))`.
function rewriteImport(node, edits) {
  const source = JSON.stringify(node.source.value);
  const names = node.specifiers.map((s) => s.local.name);
  const ns = node.specifiers.find((s) => s.type === 'ImportNamespaceSpecifier');
  let text;
  if (ns) {
    text = `void (${ns.local.name} = await import(${source}));`;
  } else if (names.length === 0) {
    text = `await import(${source});`;
  } else {
    const props = node.specifiers.map((s) => {
      const imported = s.type === 'ImportDefaultSpecifier' ? 'default' : s.imported.name ?? s.imported.value;
      return `${JSON.stringify(imported)}: ${s.local.name}`;
    });
    text = `void ({${props.join(', ')}} = await import(${source}));`;
  }
  edits.replace(node.start, node.end, text);
  return names;
}

// Wraps the operand of every await expression, nested functions included; each edit
// stays on its line. The await's place in the cell goes along: an engine promise that
// rejects has no cell frame in its stack (the call returned long before), so the error
// is given this place instead.
function wrapAwaits(node, edits, where) {
  if (!node || typeof node.type !== 'string') return;
  if (node.type === 'AwaitExpression') {
    const { line, column } = where(node.start);
    edits.insert(node.argument.start, `${AWAIT}(`);
    edits.insert(node.argument.end, `, ${where.cell}, ${line}, ${column + 1})`);
  }
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (Array.isArray(child)) for (const c of child) wrapAwaits(c, edits, where);
    else if (child && typeof child === 'object') wrapAwaits(child, edits, where);
  }
}

/**
 * Returns `{code, declared, prefixLength}`; `code` is a function body taking the scope
 * object as `SCOPE`. `cell` is the execution number awaits report. Throws acorn's
 * SyntaxError (with `loc`) on invalid input.
 */
export function rewriteCell(source, cell = 0) {
  const ast = parse(source, {
    ecmaVersion: 'latest',
    sourceType: 'script',
    allowAwaitOutsideFunction: true,
    allowReturnOutsideFunction: true,
    allowImportExportEverywhere: true,
    allowHashBang: true,
  });
  const edits = new Edits(source);
  const declared = [];
  const hoisted = [];
  for (const node of ast.body) {
    switch (node.type) {
      case 'VariableDeclaration':
        declared.push(...rewriteVariables(node, source, edits));
        break;
      case 'FunctionDeclaration':
        // Left in place so it stays hoisted within the cell; published at the top.
        hoisted.push(node.id.name);
        break;
      case 'ClassDeclaration':
        declared.push(node.id.name);
        edits.insert(node.start, `${node.id.name} = `);
        edits.insert(node.end, ';');
        break;
      case 'ImportDeclaration':
        declared.push(...rewriteImport(node, edits));
        break;
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        throw Object.assign(new SyntaxError('export has no meaning in a cell: top-level declarations are already shared'), {
          loc: node.loc ?? locate(source, node.start),
        });
    }
  }
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const where = (offset) => {
    let line = lineStarts.length;
    while (lineStarts[line - 1] > offset) line -= 1;
    return { line, column: offset - lineStarts[line - 1] };
  };
  where.cell = Number(cell) || 0;
  wrapAwaits(ast, edits, where);
  const last = ast.body.at(-1);
  if (last?.type === 'ExpressionStatement') {
    edits.insert(last.expression.start, 'return (');
    edits.insert(last.expression.end, ')');
  }
  const prefix =
    `with (${SCOPE}) { ` + hoisted.map((name) => `${SCOPE}[${JSON.stringify(name)}] = ${name}; `).join('');
  return {
    code: prefix + edits.apply() + '\n}',
    declared: [...new Set([...declared, ...hoisted])],
    prefixLength: prefix.length,
  };
}

function locate(source, offset) {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1).length };
}
