// interop.js: apache-arrow's side of tests/ipc/test_ipc_interop.sh.
//
//   node interop.js dump PATH                 a file or stream, as text
//   node interop.js write stream|file PATH    batches of every type tally has
//
// The text is the one tests/ipc/ipc_interop.c prints for the same bytes (it
// says how); the two are compared line for line.
'use strict';
const fs = require('fs');
const arrow = require('apache-arrow');
const { Type, Field, Schema, RecordBatch, makeData, vectorFromArray } = arrow;

function describe(t) {
    switch (t.typeId) {
    case Type.Bool: return 'bool';
    case Type.Int: return (t.isSigned ? 'int' : 'uint') + t.bitWidth;
    case Type.Float:
        return t.precision === arrow.Precision.SINGLE ? 'float'
            : t.precision === arrow.Precision.DOUBLE ? 'double' : 'half';
    case Type.Utf8: return 'string';
    case Type.Binary: return 'binary';
    case Type.List:
    case Type.Struct:
        return (t.typeId === Type.List ? 'list<' : 'struct<') +
            t.children.map((f) => `${f.name}: ${describe(f.type)}`).join(', ') + '>';
    default: return `unsupported(${t})`;
    }
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');

function value(v, t) {
    if (v === null || v === undefined) return 'null';
    switch (t.typeId) {
    case Type.Bool: return v ? 'true' : 'false';
    case Type.Int: return String(v);
    case Type.Float: {
        const dv = new DataView(new ArrayBuffer(8));
        dv.setFloat64(0, v, true);
        return 'f' + dv.getBigUint64(0, true).toString(16).padStart(16, '0');
    }
    case Type.Utf8: return `s'${hex(new TextEncoder().encode(v))}'`;
    case Type.Binary: return `b'${hex(v)}'`;
    case Type.List: {
        const out = [];
        for (let j = 0; j < v.length; j++) out.push(value(v.get(j), t.children[0].type));
        return '[' + out.join(',') + ']';
    }
    case Type.Struct:
        return '{' + t.children.map((f) => value(v[f.name], f.type)).join(',') + '}';
    default: throw new Error(`unsupported type ${t}`);
    }
}

function dump(path) {
    const reader = arrow.RecordBatchReader.from(fs.readFileSync(path));
    reader.open();
    const lines = [];
    for (const f of reader.schema.fields)
        lines.push(`field ${f.name}: ${describe(f.type)}${f.nullable ? '' : ' not null'}`);
    for (const [k, v] of reader.schema.metadata) lines.push(`meta ${k}=${v}`);
    let b = 0;
    for (const batch of reader) {
        lines.push(`batch ${b++}: ${batch.numRows} rows`);
        batch.schema.fields.forEach((f, k) => {
            const col = batch.getChildAt(k);
            let line = `  ${k}:`;
            for (let i = 0; i < batch.numRows; i++) line += ' ' + value(col.get(i), f.type);
            lines.push(line);
        });
    }
    process.stdout.write(lines.join('\n') + '\n');
}

// Columns of every type, nulls where (i + seed) % 5 == 2.
const fields = [
    ['bool', new arrow.Bool()], ['int8', new arrow.Int8()], ['int16', new arrow.Int16()],
    ['int32', new arrow.Int32()], ['int64', new arrow.Int64()], ['uint8', new arrow.Uint8()],
    ['uint16', new arrow.Uint16()], ['uint32', new arrow.Uint32()], ['uint64', new arrow.Uint64()],
    ['float', new arrow.Float32()], ['double', new arrow.Float64()], ['string', new arrow.Utf8()],
    ['binary', new arrow.Binary()],
    ['list', new arrow.List(new Field('item', new arrow.Int32(), true))],
    ['struct', new arrow.Struct([new Field('a', new arrow.Int64(), true),
        new Field('b', new arrow.Utf8(), true)])],
    ['strict', new arrow.Int32(), false],
].map(([name, type, nullable]) => new Field(name, type, nullable !== false));
const schema = new Schema(fields, new Map([['origin', 'apache-arrow'], ['rows', 'several']]));

function valueOf(name, i, seed) {
    if (name !== 'strict' && (i + seed) % 5 === 2) return null;
    const v = ((i * 37 + seed) % 101) - 50;
    const text = `s${v}${v % 4 === 0 ? '' : 'xyz'}`;
    switch (name) {
    case 'bool': return v % 3 === 0;
    case 'int64': return BigInt(v) * 1000000000000n;
    case 'uint8': case 'uint16': case 'uint32': return v + 50;
    case 'uint64': return 2n ** 64n - 1n - BigInt(v + 50);
    case 'float': case 'double': return v * 0.25;
    case 'string': return text + '\u00e9';
    case 'binary': return v % 7 === 0 ? new Uint8Array(0) : new TextEncoder().encode(text);
    case 'list': return Array.from({ length: i % 4 }, (_, j) => (j === 1 ? null : v * 10 + j));
    case 'struct': return { a: i % 3 === 0 ? null : BigInt(v), b: `m${i}` };
    default: return v;
    }
}

function makeBatch(n, seed) {
    const children = fields.map((f) => {
        const values = Array.from({ length: n }, (_, i) => valueOf(f.name, i, seed));
        return vectorFromArray(values, f.type).data[0];
    });
    return new RecordBatch(schema, makeData({ type: new arrow.Struct(fields), length: n,
        nullCount: 0, children }));
}

function write(format, path) {
    const big = makeBatch(200, 2);
    const batches = [makeBatch(100, 0), makeBatch(0, 0), big.slice(13, 114), big.slice(64, 84),
        makeBatch(37, 1)];
    const Writer = format === 'file' ? arrow.RecordBatchFileWriter : arrow.RecordBatchStreamWriter;
    const writer = new Writer();
    writer.reset(undefined, schema);
    for (const b of batches) writer.write(b);
    writer.finish();
    fs.writeFileSync(path, writer.toUint8Array(true));
}

const [cmd, a, b] = process.argv.slice(2);
if (cmd === 'dump' && a) dump(a);
else if (cmd === 'write' && (a === 'stream' || a === 'file') && b) write(a, b);
else {
    process.stderr.write('usage: node interop.js dump PATH | write stream|file PATH\n');
    process.exit(2);
}
