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

    // One pass of Utf8JsonReader over the mapped header, without a document: a header of 600,000 tensors (79 MB) parses
    // in a fraction of the time and memory a JsonDocument takes. Errors keep the document's precedence: a syntax error
    // anywhere in the header is reported before any error about an entry's content (SyntaxFirst).
    private static (List<SafeTensorsTensorInfo>, Dictionary<string, string>?) Parse(ReadOnlySpan<byte> json, ReaderLimits limits)
    {
        // The reference reader rejects invalid UTF-8 before parsing (System.Text.Json would only fail when a string is read).
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw SafeTensorsErrors.InvalidHeader("the header is not valid UTF-8");
        // The parser holds the depth itself when the limit is at least its own floor of 64; the scan that names the limit
        // runs up front only below that, and otherwise when the parser fails.
        if (limits.MaxNestingDepth < 64) IO.JsonDepth.Check(json, limits, SafeTensorsErrors.Format, null, LengthFieldSize);
        try
        {
            return ParseEntries(json, limits);
        }
        catch (JsonException e)
        {
            throw Syntax(json, limits, e);
        }
        catch (ModelFormatException) when (SyntaxError(json, limits) is { } e)
        {
            throw Syntax(json, limits, e);
        }
    }

    private static JsonReaderOptions ReaderOptions(ReaderLimits limits) => new() { MaxDepth = IO.JsonDepth.Options(limits).MaxDepth };

    private static ModelFormatException Syntax(ReadOnlySpan<byte> json, ReaderLimits limits, JsonException e)
    {
        IO.JsonDepth.Check(json, limits, SafeTensorsErrors.Format, null, LengthFieldSize);
        return SafeTensorsErrors.InvalidHeader(e.Message, LengthFieldSize + TextPosition.Offset(json, e.LineNumber ?? 0, e.BytePositionInLine ?? 0), e);
    }

    /// <summary>The first syntax error of the whole header, or null when it is well-formed JSON.</summary>
    private static JsonException? SyntaxError(ReadOnlySpan<byte> json, ReaderLimits limits)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions(limits));
        try
        {
            while (reader.Read()) { }
            return null;
        }
        catch (JsonException e)
        {
            return e;
        }
    }

    private static (List<SafeTensorsTensorInfo>, Dictionary<string, string>?) ParseEntries(ReadOnlySpan<byte> json, ReaderLimits limits)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions(limits));
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            while (reader.Read()) { } // trailing content is a syntax error, reported first
            throw SafeTensorsErrors.InvalidHeader("the header is not a JSON object");
        }
        var tensors = new List<SafeTensorsTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            var value = Value(ref reader, json);
            if (!names.Add(name)) throw SafeTensorsErrors.InvalidHeader($"key '{name}' appears twice");
            if (name == MetadataKey)
            {
                metadata = ParseMetadata(value);
                continue;
            }
            if (tensors.Count >= limits.MaxTensorCount)
                throw new ReaderLimitException(SafeTensorsErrors.Format, nameof(ReaderLimits.MaxTensorCount), tensors.Count + 1, limits.MaxTensorCount, 8);
            tensors.Add(ParseTensor(name, value));
        }
        while (reader.Read()) { } // content after the object is a syntax error
        return (tensors, metadata);
    }

    /// <summary>The value the reader is at, as its own slice of the header (the reader moves past it).</summary>
    private static JsonSlice Value(scoped ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        int start = (int)reader.TokenStartIndex;
        var kind = reader.TokenType;
        reader.Skip();
        return new JsonSlice(kind, json[start..(int)reader.BytesConsumed]);
    }

    /// <summary>A JSON value's token kind and text, read again only when its content is needed.</summary>
    private readonly ref struct JsonSlice(JsonTokenType kind, ReadOnlySpan<byte> text)
    {
        public JsonTokenType Kind { get; } = kind;

        public ReadOnlySpan<byte> Text { get; } = text;

        public bool IsEmpty => Text.IsEmpty;

        public Utf8JsonReader Reader()
        {
            var r = new Utf8JsonReader(Text, new JsonReaderOptions { MaxDepth = int.MaxValue });
            r.Read();
            return r;
        }

        public string? GetString()
        {
            var r = Reader();
            return r.GetString();
        }

        /// <summary>What <c>JsonElement.ToString()</c> gives: a string's value, True/False, "" for null, else the raw text.</summary>
        public override string ToString() => Kind switch
        {
            JsonTokenType.String => GetString()!,
            JsonTokenType.True => bool.TrueString,
            JsonTokenType.False => bool.FalseString,
            JsonTokenType.Null => "",
            _ => Encoding.UTF8.GetString(Text),
        };
    }

    private static Dictionary<string, string> ParseMetadata(JsonSlice e)
    {
        if (e.Kind != JsonTokenType.StartObject) throw SafeTensorsErrors.InvalidHeader("__metadata__ must be an object of strings");
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        var r = e.Reader();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            string key = r.GetString()!;
            r.Read();
            if (r.TokenType != JsonTokenType.String)
            {
                throw SafeTensorsErrors.InvalidHeader($"__metadata__ value '{key}' is {Kind(r.TokenType)}, but the format allows only strings");
            }
            d[key] = r.GetString()!;
        }
        return d;
    }

    // JsonValueKind's names, as the document-based reader printed them.
    private static string Kind(JsonTokenType t) => t switch
    {
        JsonTokenType.StartObject => nameof(JsonValueKind.Object),
        JsonTokenType.StartArray => nameof(JsonValueKind.Array),
        JsonTokenType.Number => nameof(JsonValueKind.Number),
        JsonTokenType.True => nameof(JsonValueKind.True),
        JsonTokenType.False => nameof(JsonValueKind.False),
        JsonTokenType.Null => nameof(JsonValueKind.Null),
        _ => nameof(JsonValueKind.String),
    };

    private static SafeTensorsTensorInfo ParseTensor(string name, JsonSlice e)
    {
        if (e.Kind != JsonTokenType.StartObject) throw SafeTensorsErrors.InvalidTensorInfo(name, "entry is not an object with dtype, shape and data_offsets");
        // A key given twice: the last one counts, as JsonElement.TryGetProperty found it.
        JsonSlice dt = default, sh = default, off = default;
        var r = e.Reader();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            int which = r.ValueTextEquals("dtype"u8) ? 1 : r.ValueTextEquals("shape"u8) ? 2 : r.ValueTextEquals("data_offsets"u8) ? 3 : 0;
            r.Read();
            var v = Value(ref r, e.Text);
            if (which == 1) dt = v;
            else if (which == 2) sh = v;
            else if (which == 3) off = v;
        }
        if (dt.IsEmpty || dt.Kind != JsonTokenType.String) throw SafeTensorsErrors.InvalidTensorInfo(name, "missing string 'dtype'");
        var dtypeName = dt.GetString()!;
        if (!SafeTensorsDType.TryParse(dtypeName, out var dtype)) throw SafeTensorsErrors.UnsupportedDType(name, dtypeName);
        if (sh.IsEmpty || sh.Kind != JsonTokenType.StartArray) throw SafeTensorsErrors.InvalidTensorInfo(name, "missing array 'shape'");
        var shape = new List<long>(4);
        var dims = sh.Reader();
        while (dims.Read() && dims.TokenType != JsonTokenType.EndArray)
        {
            var d = Value(ref dims, sh.Text);
            if (d.Kind != JsonTokenType.Number || !TryNonNegative(d, out var v))
                throw SafeTensorsErrors.InvalidTensorInfo(name, $"shape entry {d.ToString()} is not a non-negative integer");
            shape.Add(v);
        }
        if (off.IsEmpty || off.Kind != JsonTokenType.StartArray) throw SafeTensorsErrors.InvalidTensorInfo(name, "missing 'data_offsets' [begin, end]");
        var bounds = off.Reader();
        bounds.Read();
        var first = bounds.TokenType == JsonTokenType.EndArray ? default : Value(ref bounds, off.Text);
        bounds.Read();
        var second = first.IsEmpty || bounds.TokenType == JsonTokenType.EndArray ? default : Value(ref bounds, off.Text);
        if (second.IsEmpty || (bounds.Read() && bounds.TokenType != JsonTokenType.EndArray))
            throw SafeTensorsErrors.InvalidTensorInfo(name, "missing 'data_offsets' [begin, end]");
        long begin = ReadOffset(name, first), end = ReadOffset(name, second);
        return new SafeTensorsTensorInfo(name, dtype, [.. shape], begin, end);
    }

    private static bool TryNonNegative(JsonSlice e, out long v)
    {
        var r = e.Reader();
        return r.TryGetInt64(out v) && v >= 0;
    }

    private static long ReadOffset(string name, JsonSlice e) =>
        e.Kind == JsonTokenType.Number && TryNonNegative(e, out var v)
            ? v : throw SafeTensorsErrors.InvalidTensorInfo(name, $"data offset {e.ToString()} is not a non-negative integer");

    private static void Validate(List<SafeTensorsTensorInfo> tensors, long dataLength, long dataStart)
    {
        long expected = 0;
        // Sorted by (begin, end), ties kept in header order (a stable sort, as the reference's sort_by is).
        var order = new int[tensors.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (x, y) =>
        {
            SafeTensorsTensorInfo a = tensors[x], b = tensors[y];
            return a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End != b.End ? a.End.CompareTo(b.End) : x.CompareTo(y);
        });
        foreach (var t in order.Select(i => tensors[i]))
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
