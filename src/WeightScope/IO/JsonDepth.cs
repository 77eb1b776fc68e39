using System.Text;
using System.Text.Json;

namespace WeightScope.IO;

/// <summary>
/// Holds JSON headers and configs to <see cref="ReaderLimits.MaxNestingDepth"/>: a scan that reports nesting over the
/// limit as a <see cref="ReaderLimitException"/> (System.Text.Json would report it as a bare syntax error at depth 64),
/// and parser options that let through whatever the limit allows.
/// </summary>
internal static class JsonDepth
{
    /// <summary>Parser options allowing <see cref="ReaderLimits.MaxNestingDepth"/> levels (at least System.Text.Json's default 64).</summary>
    public static JsonDocumentOptions Options(ReaderLimits limits) => new() { MaxDepth = Math.Max(64, limits.MaxNestingDepth) };

    /// <summary>
    /// Throws <see cref="ReaderLimitException"/> when <paramref name="json"/> nests objects and arrays deeper than the
    /// limit. Malformed JSON is left for the parser to report: the scan stops at the first syntax error.
    /// </summary>
    public static void Check(ReadOnlySpan<byte> json, ReaderLimits limits, string format, string? entry = null, long offset = 0)
    {
        int max = limits.MaxNestingDepth;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = max >= int.MaxValue - 1 ? int.MaxValue : max + 1,
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth + 1 > max)
                    throw new ReaderLimitException(format, nameof(ReaderLimits.MaxNestingDepth), reader.CurrentDepth + 1, max, offset + reader.TokenStartIndex, entry);
            }
        }
        catch (JsonException)
        {
            // Not JSON (or truncated): the caller's parser reports where and why.
        }
    }

    /// <inheritdoc cref="Check(ReadOnlySpan{byte}, ReaderLimits, string, string?, long)"/>
    public static void Check(string json, ReaderLimits limits, string format, string? entry = null) =>
        Check(Encoding.UTF8.GetBytes(json), limits, format, entry);
}
