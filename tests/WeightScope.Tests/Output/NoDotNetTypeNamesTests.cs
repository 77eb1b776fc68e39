using System.Text;
using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Output;

/// <summary>
/// No .NET type name (<c>System.Object[]</c>, <c>System.Collections.Generic.List`1[…]</c>) ever reaches what a user
/// reads: a value that falls through to <c>ToString()</c> on its way to text is a bug (a TorchScript <c>Final</c>
/// tuple printed <c>kernel_size=System.Object[]</c>). Every fixture and corpus file is rendered the ways the verbs
/// render it — in process through the library (tree, compact tree, tree/list JSON, summary, metadata, attributes,
/// values, errors), and the CLI's text verbs for a few TorchScript files.
/// </summary>
public class NoDotNetTypeNamesTests
{
    private const string Marker = "System.";

    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (var f in ModelFiles(TestPaths.Fixtures)) d.Add(f);
        if (TestPaths.CorpusAvailable)
            foreach (var f in ModelFiles(TestPaths.Corpus)) d.Add(f);
        return d;
    }

    // Every file but answers, scripts and notes; companion files that are no model fail to open, and their message is checked.
    private static IEnumerable<string> ModelFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}generate{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && Path.GetExtension(f) is not (".json" or ".py" or ".md" or ".txt" or ".mjs"))
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Files))]
    public void Library_renderings_name_no_dotnet_type(string file)
    {
        ModelFile m;
        try
        {
            m = ModelFile.Open(file);
        }
        catch (Exception e) when (e is ModelFormatException or NotSupportedException)
        {
            AssertClean(e.Message, "the error");
            return;
        }
        using (m)
        {
            if (m.HasModuleTypes) AssertClean(TreePrinter.Format(m.Modules), "tree");
            AssertClean(TreePrinter.FormatNameTree(m.Modules), "tree --compact");
            AssertClean(Json(w => ModelJson.Tree(w, m.Modules)), "tree --json");
            AssertClean(Json(w => ModelJson.TensorList(w, m, m.Tensors, m.Tensors.Totals)), "list --json");
            AssertClean(SummaryPrinter.Format(ModelSummary.Of(m)), "tree --summary");
            foreach (var (key, value) in m.Metadata)
            {
                AssertClean(PythonRepr.Of(value), $"metadata '{key}'");
                AssertClean(Json(w => ModelJson.Value(w, value)), $"metadata '{key}' as JSON");
            }
            foreach (var node in m.Modules.Descendants())
                foreach (var (key, value) in node.Attributes)
                    AssertClean(PythonRepr.Of(value), $"attribute '{key}' of module '{node.Path}'");
            foreach (var t in m.Tensors.Where(t => t.ElementCount <= 100_000).Take(3))
            {
                try
                {
                    AssertClean(TensorFormatter.Format(t), $"show {t.Name}");
                }
                catch (Exception e) when (e is ModelFormatException or NotSupportedException)
                {
                    AssertClean(e.Message, $"the error of show {t.Name}");
                }
            }
        }
    }

    // The CLI adds only layout around the renderers checked above (every file, in process); these files run every
    // verb's text through it: the scripted module whose Final tuples printed System.Object[], a quantized one, and a
    // lite-interpreter file whose weights are xnnpack constants.
    public static TheoryData<string> CliFiles() =>
    [
        TestPaths.Fixture("pytorch", "torchscript_model.pt"),
        TestPaths.Fixture("pytorch", "torchscript", "static_quantized_scripted.pt"),
        TestPaths.Fixture("pytorch", "torchscript", "lite_mobile_optimized.ptl"),
    ];

    [Theory]
    [MemberData(nameof(CliFiles))]
    public void Cli_output_names_no_dotnet_type(string file)
    {
        using var m = ModelFile.Open(file);
        var name = m.Tensors[0].Name;
        foreach (var args in new[] { new[] { "tree", file, "--compact" }, ["info", file], ["list", file, "--all"], ["show", file, name] })
        {
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 0, $"{string.Join(' ', args)}: {r.Stderr}");
            AssertClean(r.Stdout + r.Stderr, string.Join(' ', args));
        }
    }

    [Fact]
    public void The_marker_is_caught()
    {
        // The check itself: the value that used to fall through to ToString() would be caught.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClean(new object?[] { 3L, 3L }.ToString()!, "a tuple's ToString()"));
        Assert.Equal("(3, 3)", PythonRepr.Of(new object?[] { 3L, 3L }));
    }

    private static void AssertClean(string text, string what)
    {
        int at = text.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(at < 0, $"{what} shows a .NET type name: …{text[Math.Max(0, at - 60)..Math.Min(text.Length, at + 60)]}…");
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) write(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
