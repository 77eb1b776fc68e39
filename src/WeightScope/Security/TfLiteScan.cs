using System.Buffers.Binary;
using System.Text;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// TensorFlow Lite flatbuffers (file identifier <c>TFL3</c> at byte 4, tensorflow/lite/schema/schema.fbs). WeightScope
/// has no TFLite reader, but what can run in one is small and sits in one place: the model's operator codes. A builtin
/// operator is a kernel compiled into the interpreter; a custom operator (<c>custom_code</c>) needs a kernel the app
/// registers, and a <c>Flex…</c> custom operator runs the TensorFlow op of that name through the Flex delegate — so
/// <c>FlexWriteFile</c> writes files exactly as in a SavedModel graph. Only the operator-code table is parsed, every
/// offset bounds-checked; a file whose table cannot be followed is refused (exit 3), never passed.
/// </summary>
internal static class TfLiteScan
{
    private const int IdentifierOffset = 4;

    // schema.fbs: table Model { version:uint; operator_codes:[OperatorCode]; … } and
    // table OperatorCode { deprecated_builtin_code:byte; custom_code:string; version:int; builtin_code:BuiltinOperator; }
    private const int ModelOperatorCodesField = 1, OperatorCodeCustomCodeField = 1;

    /// <summary>True when the file carries the TFLite flatbuffer identifier.</summary>
    public static bool LooksLikeTfLite(ReadOnlySpan<byte> head) => head.Length >= 8 && head.Slice(IdentifierOffset, 4).SequenceEqual("TFL3"u8);

    public static ScanReport Scan(string path, MappedFile file, ReaderLimits limits)
    {
        var report = new ScanReport { Path = path, Container = "tflite" };
        var data = file.Span(0, (int)Math.Min(file.Length, Array.MaxLength));
        var reader = new FlatBuffer(data, path);
        int model = reader.Root();
        var customs = new List<string>();
        if (reader.Field(model, ModelOperatorCodesField) is int codesAt)
        {
            var (codes, count) = reader.Vector(codesAt);
            if (count > limits.MaxTensorCount)
                throw new ReaderLimitException("tflite", nameof(ReaderLimits.MaxTensorCount), count, limits.MaxTensorCount, codesAt);
            for (int i = 0; i < count; i++)
            {
                int code = reader.Indirect(codes + 4 * i);
                if (reader.Field(code, OperatorCodeCustomCodeField) is int nameAt) customs.Add(reader.String(nameAt));
            }
            report.Notes.Add($"TensorFlow Lite flatbuffer: {count} operator code(s) read, {customs.Count} custom");
        }
        // A custom kernel is the app's code, not the file's: named in a note. A Flex op that touches files, processes or the
        // network is dangerous, as the same op in a SavedModel graph is.
        foreach (var name in customs.Distinct(StringComparer.Ordinal))
        {
            string? tfOp = name.StartsWith("Flex", StringComparison.Ordinal) ? name["Flex".Length..] : null;
            if (tfOp is not null && SavedModelOpsScan.DangerousOp(tfOp) is { } why)
                report.Code.Add(new CodeFinding("tflite-flex-op", path, $"{name}: runs TensorFlow's {tfOp} through the Flex delegate: {why}", ScanVerdict.Dangerous));
            else
                report.Notes.Add(tfOp is null ? $"custom operator {name}: runs a native kernel the app registers (nothing in the file)"
                                              : $"{name}: runs TensorFlow's {tfOp} through the Flex delegate (no file, process or network access)");
        }
        if (report.Code.Count == 0)
            report.Notes.Add($"no code-bearing content: {(customs.Count == 0 ? "builtin operators only (kernels of the TFLite interpreter)" : "operators run kernels of the interpreter or the app")}");
        return report;
    }

    // The few FlatBuffers reads the operator table needs (flatbuffers.dev/internals), each checked against the file.
    private readonly ref struct FlatBuffer(ReadOnlySpan<byte> data, string path)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Root() => Indirect(0);

        // A uoffset_t at `at`: the position it points to, forward from itself.
        public int Indirect(int at) => Check((long)at + U32(at), at, "an offset that points outside the file");

        // The position of a table's field, or null when the vtable leaves it out.
        public int? Field(int table, int index)
        {
            long vtable = table - (long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(table, 4));
            int vt = Check(vtable, table, "a vtable outside the file");
            int size = BinaryPrimitives.ReadUInt16LittleEndian(Bytes(vt, 2));
            int slot = 4 + 2 * index;
            if (slot + 2 > size) return null;
            int offset = BinaryPrimitives.ReadUInt16LittleEndian(Bytes(vt + slot, 2));
            return offset == 0 ? null : Check((long)table + offset, vt, "a field outside the file");
        }

        // A vector field: where its elements start and how many there are.
        public (int Start, int Count) Vector(int field)
        {
            int v = Indirect(field);
            uint n = U32(v);
            if (n > (_data.Length - (long)v - 4) / 4) throw Corrupt(v, "a vector longer than the file");
            return (v + 4, (int)n);
        }

        public string String(int field)
        {
            int s = Indirect(field);
            uint n = U32(s);
            if (n > _data.Length - (long)s - 4) throw Corrupt(s, "a string longer than the file");
            return Encoding.UTF8.GetString(_data.Slice(s + 4, (int)n));
        }

        private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(at, 4));

        private ReadOnlySpan<byte> Bytes(int at, int n) =>
            at >= 0 && (long)at + n <= _data.Length ? _data.Slice(at, n) : throw Corrupt(at, $"{n} bytes past the end of the file");

        private int Check(long position, int from, string what) =>
            position >= 0 && position < _data.Length ? (int)position : throw Corrupt(from, what);

        private InvalidModelContentException Corrupt(long at, string what) =>
            new("tflite", $"the operator table cannot be followed: {what}", at) { FilePath = path };
    }
}
