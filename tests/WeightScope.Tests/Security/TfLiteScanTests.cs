using System.Buffers.Binary;
using System.Text;
using WeightScope.Security;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// TensorFlow Lite files get a verdict, not "unrecognised content" (issue 17 §3): the operator-code table is read, a
/// Flex op that touches files is dangerous as in a SavedModel graph, custom kernels are named. No TFLite writer runs here
/// (no TensorFlow), so the crafted files are laid out from tensorflow/lite/schema/schema.fbs and the FlatBuffers binary
/// format (flatbuffers.dev/internals: root uoffset, file identifier at 4, tables with soffset to their vtable).
/// </summary>
public sealed class TfLiteScanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-tflite-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Model { operator_codes (field 1): [OperatorCode { custom_code (field 1) } or a builtin one without it] }.
    private static byte[] Model(params string?[] customCodes)
    {
        int n = customCodes.Length;
        const int modelVtable = 8, model = 16, vector = 24;        // model vtable: 8 bytes; model table: soffset + field
        int codeVtable = vector + 4 + 4 * n;                        // OperatorCode vtable with custom_code: 8 bytes
        int builtinVtable = codeVtable + 8;                         // vtable with no fields: 4 bytes
        int tables = builtinVtable + 4;
        var tableAt = new int[n];
        int at = tables;
        for (int i = 0; i < n; i++) { tableAt[i] = at; at += customCodes[i] is null ? 4 : 8; }
        var stringAt = new int[n];
        for (int i = 0; i < n; i++)
            if (customCodes[i] is { } s) { stringAt[i] = at; at += (4 + Encoding.UTF8.GetByteCount(s) + 1 + 3) & ~3; }
        var b = new byte[at];
        void U32(int pos, int v) => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(pos), v);
        void U16(int pos, int v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(pos), (ushort)v);
        U32(0, model);                                              // root table
        "TFL3"u8.CopyTo(b.AsSpan(4));                               // file_identifier
        U16(modelVtable, 8); U16(modelVtable + 2, 8); U16(modelVtable + 4, 0); U16(modelVtable + 6, 4); // version absent, operator_codes at +4
        U32(model, model - modelVtable);                            // soffset to the vtable
        U32(model + 4, vector - (model + 4));                       // uoffset to the vector
        U32(vector, n);
        U16(codeVtable, 8); U16(codeVtable + 2, 8); U16(codeVtable + 4, 0); U16(codeVtable + 6, 4);
        U16(builtinVtable, 4); U16(builtinVtable + 2, 4);
        for (int i = 0; i < n; i++)
        {
            U32(vector + 4 + 4 * i, tableAt[i] - (vector + 4 + 4 * i));
            if (customCodes[i] is not { } s)
            {
                U32(tableAt[i], tableAt[i] - builtinVtable);        // soffset to the vtable without fields
                continue;
            }
            U32(tableAt[i], tableAt[i] - codeVtable);
            U32(tableAt[i] + 4, stringAt[i] - (tableAt[i] + 4));
            U32(stringAt[i], Encoding.UTF8.GetByteCount(s));
            Encoding.UTF8.GetBytes(s, b.AsSpan(stringAt[i] + 4));
        }
        return b;
    }

    private ScanReport Scan(byte[] bytes)
    {
        var path = Path.Combine(_dir, "model.tflite");
        File.WriteAllBytes(path, bytes);
        return PickleScanner.Scan(path);
    }

    [Fact]
    public void A_flex_op_that_writes_files_is_dangerous()
    {
        var report = Scan(Model(null, "FlexWriteFile", "FlexAddV2"));
        Assert.Equal("tflite", report.Container);
        var finding = Assert.Single(report.Code);
        Assert.Equal(ScanVerdict.Dangerous, finding.Verdict);
        Assert.Contains("FlexWriteFile", finding.Detail, StringComparison.Ordinal);
        Assert.Contains(report.Notes, n => n.Contains("FlexAddV2", StringComparison.Ordinal));
    }

    [Fact]
    public void Builtin_and_custom_kernels_have_no_code_bearing_content()
    {
        var report = Scan(Model(null, "ParseExample"));
        Assert.Empty(report.Code);
        Assert.Empty(report.Errors);
        Assert.Contains(report.Notes, n => n.Contains("custom operator ParseExample", StringComparison.Ordinal));
        Assert.Contains(report.Notes, n => n.StartsWith("no code-bearing content", StringComparison.Ordinal));
    }

    [Fact]
    public void A_table_that_points_outside_the_file_is_refused_with_its_offset()
    {
        var bytes = Model("FlexWriteFile");
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), 1 << 20); // the operator_codes offset, past the end
        var path = Path.Combine(_dir, "bad.tflite");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidModelContentException>(() => PickleScanner.Scan(path));
        Assert.Contains("tflite", e.Message, StringComparison.Ordinal);
        Assert.Equal(20, e.Offset);
    }

    [CorpusFact]
    public void The_corpus_tflite_file_gets_a_verdict()
    {
        var report = PickleScanner.Scan(TestPaths.CorpusFile("tflite/tf-serving/parse_example.tflite"));
        Assert.Equal("tflite", report.Container);
        Assert.Empty(report.Errors);
        Assert.Contains(report.Notes, n => n.StartsWith("TensorFlow Lite flatbuffer", StringComparison.Ordinal));
    }
}
