using System.Buffers;
using System.Text;
using System.Text.Json;

namespace WeightScope.Security;

/// <summary>
/// Reads a Keras config (<c>config.json</c> of a <c>.keras</c> zip, <c>model_config</c>/<c>training_config</c> of an
/// HDF5 model, a <c>model.to_json()</c> file, a TF.js topology) as Python's <c>json.loads</c> reads the bytes Keras hands
/// it, at any depth Python accepts, and hands it to <see cref="KerasConfigRules"/>, which flags what runs code when
/// Keras deserialises it: Lambda layers (marshalled Python bytecode), and code named by module path.
/// </summary>
internal static class KerasLambdaScan
{
    /// <summary>Python's json module gives up on deeper nesting long before this (its C scanner's recursion limit, about
    /// 1000 levels); System.Text.Json keeps depth in a bit stack, and the walk below uses an explicit stack, so no config
    /// Python accepts is refused or skipped for depth.</summary>
    private const int MaxJsonDepth = 100_000;

    /// <exception cref="InvalidModelContentException">The config is not text Python's json module would decode, so it cannot be checked.</exception>
    public static void Scan(ScanReport report, byte[] json, string source)
    {
        if (!TryScan(report, json, source, out var error))
            // Python's json refuses it too, so Keras cannot load it: nothing it would run. Said, not silently skipped.
            report.Notes.Add($"{source} is not JSON ({error}); Keras cannot load it, so it was not checked further");
    }

    /// <summary>Checks a config; false (with the parser's message) when the bytes are not JSON at all.</summary>
    /// <exception cref="InvalidModelContentException">The config is not text Python's json module would decode, so it cannot be checked.</exception>
    public static bool TryScan(ScanReport report, byte[] json, string source, out string? error)
    {
        error = null;
        // Keras hands config.json's bytes to json.loads, which also takes UTF-16 and UTF-32 (json.detect_encoding): a
        // config in those must be read as Python reads it, or its Lambda layers would pass unseen.
        json = AsUtf8(json, source);
        // System.Text.Json checks the structure but not the UTF-8 inside strings: an invalid byte in "class_name" only
        // fails when the string is read, as an InvalidOperationException (found by ScanMutationTests). Checked first:
        // a config that cannot be decoded cannot be checked for Lambda layers, which is said (exit 3), not skipped.
        if (FirstInvalidUtf8(json) is int bad)
            throw new InvalidModelContentException("keras", $"the config is not UTF-8 text (invalid byte 0x{json[bad]:X2}): it cannot be checked for Lambda layers", bad, source);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(WithPythonConstantsAsNumbers(json), new JsonDocumentOptions { MaxDepth = MaxJsonDepth }); }
        catch (JsonException x)
        {
            error = x.Message;
            return false;
        }
        using (doc) KerasConfigRules.Walk(doc.RootElement, report, source);
        return true;
    }

    // CPython's json.detect_encoding: a BOM, or the pattern of zero bytes in the first four, picks UTF-32/16 BE/LE.
    private static byte[] AsUtf8(byte[] b, string source)
    {
        Encoding? encoding = null;
        int bom = 0;
        if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF])) (encoding, bom) = (new UTF32Encoding(true, false, true), 4);
        else if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00])) (encoding, bom) = (new UTF32Encoding(false, false, true), 4);
        else if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) (encoding, bom) = (new UnicodeEncoding(true, false, true), 2);
        else if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) (encoding, bom) = (new UnicodeEncoding(false, false, true), 2);
        else if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return b[3..];
        else if (b.Length >= 4 && b[0] == 0) encoding = b[1] != 0 ? new UnicodeEncoding(true, false, true) : new UTF32Encoding(true, false, true);
        else if (b.Length >= 4 && b[1] == 0) encoding = b[2] != 0 || b[3] != 0 ? new UnicodeEncoding(false, false, true) : new UTF32Encoding(false, false, true);
        else if (b.Length == 2 && b[0] == 0) encoding = new UnicodeEncoding(true, false, true);
        else if (b.Length == 2 && b[1] == 0) encoding = new UnicodeEncoding(false, false, true);
        if (encoding is null) return b;
        try { return Encoding.UTF8.GetBytes(encoding.GetString(b, bom, b.Length - bom)); }
        catch (DecoderFallbackException x)
        {
            throw new InvalidModelContentException("keras", $"the config is {encoding.WebName} text with an invalid sequence: it cannot be checked for Lambda layers",
                                                   bom + x.Index, source);
        }
    }

    // Python's json accepts NaN, Infinity and -Infinity; System.Text.Json does not. Outside strings they become numbers of
    // the same length, so a config holding one still parses (and offsets stay put).
    private static byte[] WithPythonConstantsAsNumbers(byte[] json)
    {
        byte[]? copy = null;
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte c = json[i];
            if (inString)
            {
                if (c == (byte)'\\') i++;
                else if (c == (byte)'"') inString = false;
                continue;
            }
            if (c == (byte)'"') { inString = true; continue; }
            int length = json.AsSpan(i).StartsWith("NaN"u8) ? 3 : json.AsSpan(i).StartsWith("Infinity"u8) ? 8 : 0;
            if (length == 0) continue;
            copy ??= (byte[])json.Clone();
            copy[i] = (byte)'0';
            copy.AsSpan(i + 1, length - 1).Fill((byte)' ');
            i += length - 1;
        }
        return copy ?? json;
    }

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < b.Length;)
        {
            if (Rune.DecodeFromUtf8(b[i..], out _, out int used) != OperationStatus.Done) return i;
            i += used;
        }
        return null;
    }
}
