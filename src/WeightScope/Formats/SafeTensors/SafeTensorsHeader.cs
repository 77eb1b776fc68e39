using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.SafeTensors;

/// <summary>One entry of the JSON header: <c>{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}</c>.</summary>
internal sealed record SafeTensorsTensorInfo(string Name, DType DType, long[] Shape, long Begin, long End);

/// <summary>
/// The parsed and validated header: <c>u64 N</c> (little-endian), N bytes of UTF-8 JSON, then the data section.
/// Validation follows the reference implementation's <c>Metadata::validate</c>: offsets sorted, contiguous from 0,
/// each span equal to elements × element size, and the last end equal to the data section's length.
/// </summary>
internal sealed class SafeTensorsHeader
{
    private const int LengthFieldSize = 8;
    private const string MetadataKey = "__metadata__";

    private SafeTensorsHeader(long dataStart, List<SafeTensorsTensorInfo> tensors, Dictionary<string, string>? metadata)
    {
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>File offset of byte 0 of the data section (8 + N).</summary>
    public long DataStart { get; }

    /// <summary>Tensors in header order.</summary>
    public List<SafeTensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> string map, if present.</summary>
    public Dictionary<string, string>? Metadata { get; }

    /// <summary>True when the first bytes could start a safetensors file (cheap; no JSON parsing).</summary>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> header, long fileLength)
    {
        if (header.Length < LengthFieldSize + 1) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(header);
        return n >= 2 && n <= (ulong)(fileLength - LengthFieldSize) && header[LengthFieldSize] == (byte)'{';
    }

    public static SafeTensorsHeader Read(MappedFile file, ReaderLimits limits)
    {
        if (file.Length < LengthFieldSize) throw SafeTensorsErrors.HeaderTooSmall(file.Length);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, LengthFieldSize));
        if (n > (ulong)limits.MaxHeaderBytes) throw SafeTensorsErrors.HeaderTooLarge(n, limits.MaxHeaderBytes);
        if (n > (ulong)(file.Length - LengthFieldSize)) throw SafeTensorsErrors.InvalidHeaderLength(n, file.Length);
        var json = file.Span(LengthFieldSize, (int)n);
        if (json.Length == 0 || json[0] != (byte)'{') throw SafeTensorsErrors.InvalidHeaderStart(json.Length == 0 ? (byte)0 : json[0]);

        var (tensors, metadata) = Parse(json, limits);
        long dataStart = LengthFieldSize + (long)n;
        Validate(tensors, file.Length - dataStart, dataStart);
        return new SafeTensorsHeader(dataStart, tensors, metadata);
    }

    private static (List<SafeTensorsTensorInfo>, Dictionary<string, string>?) Parse(ReadOnlySpan<byte> json, ReaderLimits limits)
    {
        // The reference reader rejects invalid UTF-8 before parsing (System.Text.Json would only fail when a string is read).
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw SafeTensorsErrors.InvalidHeader("the header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            IO.JsonDepth.Check(json, limits, SafeTensorsErrors.Format, null, LengthFieldSize);
            doc = JsonDocument.Parse(json.ToArray(), IO.JsonDepth.Options(limits));
        }
        catch (JsonException e)
        {
            throw SafeTensorsErrors.InvalidHeader(e.Message, LengthFieldSize + TextPosition.Offset(json, e.LineNumber ?? 0, e.BytePositionInLine ?? 0), e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw SafeTensorsErrors.InvalidHeader("the header is not a JSON object");
            var tensors = new List<SafeTensorsTensorInfo>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, string>? metadata = null;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(prop.Name)) throw SafeTensorsErrors.InvalidHeader($"key '{prop.Name}' appears twice");
                if (prop.Name == MetadataKey)
                {
                    metadata = ParseMetadata(prop.Value);
                    continue;
                }
                if (tensors.Count >= limits.MaxTensorCount)
                    throw new ReaderLimitException(SafeTensorsErrors.Format, nameof(ReaderLimits.MaxTensorCount), tensors.Count + 1, limits.MaxTensorCount, 8);
                tensors.Add(ParseTensor(prop.Name, prop.Value));
            }
            return (tensors, metadata);
        }
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw SafeTensorsErrors.InvalidHeader("__metadata__ must be an object of strings");
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw SafeTensorsErrors.InvalidHeader($"__metadata__ value '{p.Name}' is {p.Value.ValueKind}, but the format allows only strings");
            d[p.Name] = p.Value.GetString()!;
        }
        return d;
    }

    private static SafeTensorsTensorInfo ParseTensor(string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw SafeTensorsErrors.InvalidTensorInfo(name, "entry is not an object with dtype, shape and data_offsets");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw SafeTensorsErrors.InvalidTensorInfo(name, "missing string 'dtype'");
        var dtypeName = dt.GetString()!;
        if (!SafeTensorsDType.TryParse(dtypeName, out var dtype)) throw SafeTensorsErrors.UnsupportedDType(name, dtypeName);
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw SafeTensorsErrors.InvalidTensorInfo(name, "missing array 'shape'");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0)
                throw SafeTensorsErrors.InvalidTensorInfo(name, $"shape entry {d} is not a non-negative integer");
            shape[i++] = v;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw SafeTensorsErrors.InvalidTensorInfo(name, "missing 'data_offsets' [begin, end]");
        long begin = ReadOffset(name, off[0]), end = ReadOffset(name, off[1]);
        return new SafeTensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(string name, JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) && v >= 0
            ? v : throw SafeTensorsErrors.InvalidTensorInfo(name, $"data offset {e} is not a non-negative integer");

    private static void Validate(List<SafeTensorsTensorInfo> tensors, long dataLength, long dataStart)
    {
        long expected = 0;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != expected || t.End < t.Begin) throw SafeTensorsErrors.InvalidOffset(t.Name, t.Begin, t.End, expected, dataStart);
            long bytes;
            try
            {
                long n = 1;
                foreach (var d in t.Shape) n = checked(n * d);
                bytes = checked(n * t.DType.ItemSize());
            }
            catch (OverflowException)
            {
                throw SafeTensorsErrors.Overflow(t.Name);
            }
            if (t.End - t.Begin != bytes)
                throw SafeTensorsErrors.SizeMismatch(t.Name, SafeTensorsDType.ToName(t.DType), "[" + string.Join(", ", t.Shape) + "]", bytes, t.End - t.Begin, dataStart + t.Begin);
            expected = t.End;
        }
        if (expected != dataLength) throw SafeTensorsErrors.IncompleteBuffer(expected, dataLength, dataStart);
    }

    /// <summary>Names in the order Python's <c>safe_open(...).keys()</c> returns them: sorted by UTF-8 bytes.</summary>
    /// <remarks>
    /// Without encoding (a 600,000-tensor header sorts with 12 million comparisons): UTF-16 code units order as code
    /// points, hence as UTF-8 bytes, except that a surrogate (half of a code point past U+FFFF) sorts after U+E000–U+FFFF.
    /// </remarks>
    public static int CompareNames(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y) continue;
            bool sx = char.IsSurrogate(x), sy = char.IsSurrogate(y);
            return sx == sy ? x.CompareTo(y) : sx ? 1 : -1;
        }
        return a.Length.CompareTo(b.Length);
    }
}
