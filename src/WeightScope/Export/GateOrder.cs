namespace WeightScope.Export;

/// <summary>Where a framework stores recurrent weights, and so how their gates are stacked and named.</summary>
public enum GateLayout
{
    /// <summary><c>nn.GRU</c>/<c>nn.LSTM</c> (and the cells): gates stacked along dim 0; GRU r,z,n; LSTM i,f,g,o.</summary>
    PyTorch,
    /// <summary>Keras GRU/LSTM cells: gates along the last axis; GRU z,r,h; LSTM i,f,c,o.</summary>
    Keras,
    /// <summary>ONNX <c>GRU</c>/<c>LSTM</c> operators: gates along axis 1 of W, R and B; GRU z,r,h; LSTM i,o,f,c.</summary>
    Onnx,
}

/// <summary>The recurrent cell a weight belongs to.</summary>
public enum RecurrentCell
{
    /// <summary>Gated recurrent unit: three gates.</summary>
    Gru,
    /// <summary>Long short-term memory: four gates.</summary>
    Lstm,
}

/// <summary>
/// Gate letters. The frameworks agree on what the gates are but not on their letters or order: PyTorch's GRU "new" gate
/// n is Keras's and ONNX's h, PyTorch's LSTM cell gate g is Keras's and ONNX's c. Letters are compared through the gate
/// they stand for, so any framework's letters work as an order for any other framework's weights.
/// </summary>
internal static class GateOrder
{
    // One identity per gate, the index into the alias table below.
    private const int Reset = 0, Update = 1, New = 2, Input = 3, Forget = 4, Cell = 5, Output = 6;

    private static readonly (char Letter, int Gate)[] s_letters =
    [
        ('r', Reset), ('z', Update), ('n', New), ('h', New),
        ('i', Input), ('f', Forget), ('g', Cell), ('c', Cell), ('o', Output),
    ];

    /// <summary>The gates as stored, in storage order, with the framework's own letters (used in the output names).</summary>
    public static string Letters(GateLayout layout, RecurrentCell cell) => (layout, cell) switch
    {
        (GateLayout.PyTorch, RecurrentCell.Gru) => "rzn",
        (GateLayout.PyTorch, RecurrentCell.Lstm) => "ifgo",
        (GateLayout.Keras, RecurrentCell.Gru) => "zrh",
        (GateLayout.Keras, RecurrentCell.Lstm) => "ifco",
        (GateLayout.Onnx, RecurrentCell.Gru) => "zrh",
        (GateLayout.Onnx, RecurrentCell.Lstm) => "iofc",
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    /// <summary>Number of gates.</summary>
    public static int Count(RecurrentCell cell) => cell == RecurrentCell.Gru ? 3 : 4;

    /// <summary>
    /// The storage indices of <paramref name="layout"/>'s gates in the order <paramref name="order"/> asks for, or the
    /// storage order when <paramref name="order"/> does not apply to this cell (a GRU order for an LSTM).
    /// </summary>
    public static int[] Permutation(GateLayout layout, RecurrentCell cell, ParsedOrder? order)
    {
        string stored = Letters(layout, cell);
        string wanted = order switch
        {
            null => stored,
            { Preset: { } preset } => Letters(preset, cell),
            { Cell: var c, Letters: var l } when c == cell => l!,
            _ => stored,
        };
        return [.. wanted.Select(w => stored.IndexOf(stored.First(s => GateOf(s) == GateOf(w))))];
    }

    /// <summary>A parsed <see cref="GateSplitOptions.GateOrder"/>: a framework's order for both cells, or letters for one.</summary>
    public sealed record ParsedOrder(GateLayout? Preset, RecurrentCell Cell, string? Letters);

    /// <summary>
    /// Parses <c>"z,r,h"</c>, <c>"i,f,g,o"</c>, <c>"zrh"</c> or a framework name (<c>pytorch</c>, <c>keras</c>,
    /// <c>onnx</c>: that framework's order for GRU and LSTM alike).
    /// </summary>
    /// <exception cref="ArgumentException">Not a framework name, or not each gate of one cell exactly once.</exception>
    public static ParsedOrder? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = text.Trim();
        foreach (var layout in Enum.GetValues<GateLayout>())
            if (string.Equals(trimmed, layout.ToString(), StringComparison.OrdinalIgnoreCase))
                return new ParsedOrder(layout, RecurrentCell.Gru, null);

        var letters = trimmed.Contains(',')
            ? trimmed.Split(',').Select(p => p.Trim().ToLowerInvariant()).ToArray()
            : [.. trimmed.ToLowerInvariant().Select(c => c.ToString())];
        if (letters.Any(l => l.Length != 1 || !s_letters.Any(x => x.Letter == l[0])))
            throw Invalid(text, $"'{letters.FirstOrDefault(l => l.Length != 1 || !s_letters.Any(x => x.Letter == l[0]))}' is not a gate letter");
        var chars = letters.Select(l => l[0]).ToArray();
        bool gru = chars.All(c => GateOf(c) <= New), lstm = chars.All(c => GateOf(c) >= Input);
        if (!gru && !lstm) throw Invalid(text, "it mixes GRU and LSTM gates");
        var cell = gru ? RecurrentCell.Gru : RecurrentCell.Lstm;
        var repeated = chars.GroupBy(GateOf).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw Invalid(text, $"the gate '{string.Concat(repeated)}' appears more than once");
        if (chars.Length != Count(cell))
            throw Invalid(text, $"an {(gru ? "GRU" : "LSTM")} has {Count(cell)} gates, the order names {chars.Length}");
        return new ParsedOrder(null, cell, new string(chars));
    }

    private static int GateOf(char letter) => s_letters.First(x => x.Letter == letter).Gate;

    private static ArgumentException Invalid(string text, string why) => new(
        $"invalid gate order '{text}': {why}. A GRU order names each of r, z, n once (h is an alias of n), e.g. 'r,z,n' " +
        "(PyTorch) or 'z,r,h' (Keras, ONNX); an LSTM order names each of i, f, g, o once (c is an alias of g), e.g. " +
        "'i,f,g,o' (PyTorch), 'i,f,c,o' (Keras) or 'i,o,f,c' (ONNX); or give a framework name: pytorch, keras, onnx.",
        "gateOrder");
}
