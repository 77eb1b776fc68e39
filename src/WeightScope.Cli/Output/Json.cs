using System.Text.Encodings.Web;
using System.Text.Json;

namespace WeightScope.Cli.Output;

/// <summary>
/// Writes a <c>--json</c> answer to stdout: indented, non-ASCII kept as is, one final newline. The shapes themselves are
/// written by the library's <see cref="WeightScope.Output.ModelJson"/> (shared with <c>weightscope serve</c>) or, for
/// CLI-only shapes, by the command.
/// </summary>
internal static class Json
{
    public static void Write(Action<Utf8JsonWriter> body)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }
        stdout.Write("\n"u8);
    }
}
