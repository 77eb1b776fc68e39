using System.Text.Json;
using WeightScope.Modules;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Graphs that break ONNX's unique-name rule, as onnx.load reads them (tests/fixtures/onnx/name_clash.onnx and
/// subgraph_clash.onnx, written by onnx 1.12's helper without the checker; onnx's definitions and values in
/// expected.json). The listed names are WeightScope's documented rule (the first definition keeps the name, later
/// ones are <c>name~k</c>, never a name the graph uses); the values are onnx's, definition by definition.
/// </summary>
public sealed class OnnxNameClashTests
{
    private static ModelFile Open(string name) => ModelFile.Open(TestPaths.Fixture("onnx", name));

    private static JsonElement Answer(string file) => OnnxAnswers.Fixtures.GetProperty(file);

    // Every tensor-valued definition in onnx's answer, in graph order, paired with the name the rule lists it under.
    private static void AssertListing(ModelFile m, IEnumerable<JsonElement> definitions, string prefix, string[] listedInOrder, string file)
    {
        var valued = definitions.Where(d => d.TryGetProperty("value", out _)).ToList();
        Assert.Equal(listedInOrder.Length, valued.Count);
        for (int i = 0; i < valued.Count; i++)
        {
            var d = valued[i];
            Assert.StartsWith(prefix + d.GetProperty("name").GetString(), listedInOrder[i], StringComparison.Ordinal);
            OnnxAnswers.AssertTensor(d.GetProperty("value"), m.Tensors[listedInOrder[i]], $"{file}:{listedInOrder[i]}");
        }
    }

    [Fact]
    public void Every_definition_of_a_repeated_name_is_listed_with_onnx_s_value()
    {
        using var m = Open("name_clash.onnx");
        var answer = Answer("name_clash.onnx");
        // initializers w, w, b, c~2; then Constant nodes 0 (c), 2 (c), 4 (b). c~2 is the graph's own name, so the
        // second c skips it.
        string[] listed = ["w", "w~2", "b", "c~2", "c", "c~3", "b~2"];
        AssertListing(m, answer.GetProperty("definitions").EnumerateArray(), "", listed, "name_clash.onnx");
        Assert.Equal(listed, m.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Each_node_s_parameters_are_the_latest_definition_before_it()
    {
        using var m = Open("name_clash.onnx");
        var nodes = m.Modules.Children;
        Assert.Same(m.Tensors["c"], m.Modules.Child("add1")!.Parameters["c"]);
        Assert.Same(m.Tensors["c~3"], m.Modules.Child("mul1")!.Parameters["c"]);
        Assert.Same(m.Tensors["b~2"], m.Modules.Child("add2")!.Parameters["b"]);
        // both initializers come before every node, so the second is what the graph reads
        Assert.Same(m.Tensors["w~2"], m.Modules.Child("neg")!.Parameters["w"]);
        // relu's output replaced w: abs reads a computed value, not a tensor of the file
        Assert.Empty(m.Modules.Child("abs")!.Parameters);
        Assert.Same(m.Tensors["c~2"], m.Modules.Child("mul2")!.Parameters["c~2"]);
        Assert.Same(m.Tensors["c~3"], nodes[2].Parameters["value"]);
    }

    [Fact]
    public void The_notes_say_which_nodes_and_initializers_clashed_and_what_runtimes_do()
    {
        using var m = Open("name_clash.onnx");
        Assert.NotNull(Answer("name_clash.onnx").GetProperty("checker").GetString()); // onnx.checker refuses the file
        var c = Assert.IsType<string>(m.Metadata["name_clash:c"]);
        Assert.StartsWith("'c' in the main graph is defined 2 times: node 0 'Constant_0' (Constant) → 'c'; node 2 'Constant_2' (Constant) → 'c~3'.", c);
        Assert.Contains("onnxruntime loads it and gives every node the value of node 2 'Constant_2' (Constant)", c);
        Assert.Contains("onnx.checker refuses the graph", c);
        var b = Assert.IsType<string>(m.Metadata["name_clash:b"]);
        Assert.Contains("initializer 2 → 'b'; node 4 'Constant_4' (Constant) → 'b~2'", b);
        var w = Assert.IsType<string>(m.Metadata["name_clash:w"]);
        Assert.Contains("defined 3 times: initializer 0 → 'w'; initializer 1 → 'w~2'; node 7 'relu' (Relu) → not a tensor (computed)", w);
        Assert.Contains("onnxruntime refuses the model ('Duplicate definition of name')", w);
        // names defined once have no note
        Assert.Equal(["name_clash:w", "name_clash:c", "name_clash:b"], m.Metadata.Keys.Where(k => k.StartsWith("name_clash:", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_subgraph_repeats_and_shadows_names_in_its_own_scope()
    {
        using var m = Open("subgraph_clash.onnx");
        var answer = Answer("subgraph_clash.onnx");
        AssertListing(m, answer.GetProperty("definitions").EnumerateArray(), "", ["k"], "subgraph_clash.onnx");
        AssertListing(m, answer.GetProperty("then_branch").EnumerateArray(), "branch/then_branch/",
            ["branch/then_branch/k", "branch/then_branch/t", "branch/then_branch/t~2"], "subgraph_clash.onnx");
        Assert.Equal(4, m.Tensors.Count);

        var then = m.Modules.Child("branch")!.Child("then_branch")!;
        Assert.Same(m.Tensors["branch/then_branch/t"], then.Child("id1")!.Parameters["t"]);
        Assert.Same(m.Tensors["branch/then_branch/t~2"], then.Child("id2")!.Parameters["t"]);
        // inside the branch its own k hides the main graph's; the other branch reads the main graph's
        Assert.Same(m.Tensors["branch/then_branch/k"], then.Child("add_k")!.Parameters["k"]);
        Assert.Same(m.Tensors["k"], m.Modules.Child("branch")!.Child("else_branch")!.Child("id_outer")!.Parameters["k"]);

        var shadow = Assert.IsType<string>(m.Metadata["name_clash:branch/then_branch/k"]);
        Assert.Equal("'k' of subgraph 'branch/then_branch' (initializer 0 → 'branch/then_branch/k') shadows 'k' of the main graph " +
                     "(initializer 0 → 'k'); the subgraph's nodes after it read the subgraph's own; onnx.checker refuses shadowing.", shadow);
        Assert.StartsWith("'t' in subgraph 'branch/then_branch' is defined 2 times: node 0 'Constant_0' (Constant) → 'branch/then_branch/t'; " +
                          "node 2 'Constant_2' (Constant) → 'branch/then_branch/t~2'.", Assert.IsType<string>(m.Metadata["name_clash:branch/then_branch/t"]));
    }
}
