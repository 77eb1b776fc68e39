using System.Collections.Concurrent;
using WeightScope.Analysis;
using WeightScope.Tensors;

namespace WeightScope.Web;

/// <summary>
/// What one <c>serve</c> run has open: the files named on the command line (slot 0, and slot 1 when comparing), the
/// statistics computed so far, and the comparison once asked for. Everything else is computed per request.
/// </summary>
internal sealed class ViewerSession : IDisposable
{
    // Per-tensor statistics, computed once per tensor (the page asks again each time a tensor is opened).
    private readonly ConcurrentDictionary<(int Slot, int Index), StatsResult> _stats = new();
    private readonly Lazy<DiffResult>? _diff;
    private readonly object[] _gates;
    private readonly Dictionary<string, int>[] _indexByName;

    public ViewerSession(IReadOnlyList<ModelFile> files, DiffOptions diffOptions)
    {
        Files = files;
        DiffOptions = diffOptions;
        _gates = [.. files.Select(_ => new object())];
        _indexByName = [.. files.Select(IndexByName)];
        if (files.Count == 2) _diff = new Lazy<DiffResult>(() => Read([0, 1], () => Analysis.Diff.Compare(files[0], files[1], diffOptions)));
    }

    /// <summary>How the two files are paired and compared (the serve command's --map, --atol…).</summary>
    public DiffOptions DiffOptions { get; }

    /// <summary>The opened files: one to view, or A and B to compare.</summary>
    public IReadOnlyList<ModelFile> Files { get; }

    /// <summary>The port the server is bound to; 0 until it is (no request is answered before).</summary>
    public volatile int Port;

    /// <summary>True when two files are open.</summary>
    public bool Comparing => Files.Count == 2;

    /// <summary>The file in a slot given by a request ("0", "1"), or null for anything else.</summary>
    public ModelFile? File(string? slot) =>
        slot is "0" ? Files[0] : slot is "1" && Files.Count == 2 ? Files[1] : null;

    /// <summary>The slot number of a file of this session.</summary>
    public int SlotOf(ModelFile file) => Files[0] == file ? 0 : 1;

    /// <summary>The index of the tensor named <paramref name="name"/> in a file's collection, or -1.</summary>
    public int IndexOf(ModelFile file, string name) => _indexByName[SlotOf(file)].TryGetValue(name, out int i) ? i : -1;

    private static Dictionary<string, int> IndexByName(ModelFile file)
    {
        var d = new Dictionary<string, int>(file.Tensors.Count, StringComparer.Ordinal);
        for (int i = 0; i < file.Tensors.Count; i++) d.TryAdd(file.Tensors[i].Name, i);
        return d;
    }

    /// <summary>
    /// Statistics of one tensor (as <c>weightscope stats</c> computes them), cached: <see cref="StatsResult.Skipped"/>
    /// says why there are none (complex tensors).
    /// </summary>
    public StatsResult Stats(ModelFile file, int index)
    {
        int slot = SlotOf(file);
        return _stats.GetOrAdd((slot, index), key => Read([key.Slot], () =>
        {
            var report = Analysis.Stats.Compute([file.Tensors[key.Index]]);
            return report.Tensors.Count == 1 ? new StatsResult(report.Tensors[0], null) : new StatsResult(null, report.Skipped[0].Reason);
        }));
    }

    /// <summary>The comparison of the two files (<c>weightscope diff</c> with its defaults), computed on first use.</summary>
    /// <exception cref="InvalidOperationException">Only one file is open.</exception>
    public DiffResult Diff() => _diff?.Value ?? throw new InvalidOperationException("only one file is open: start serve with two files to compare them");

    /// <summary>
    /// Runs a computation that reads tensor data of the files in <paramref name="slots"/>, one at a time per file: the
    /// readers are not documented as safe for concurrent reads of one file, and a person clicking through a page gains
    /// nothing from them.
    /// </summary>
    public T Read<T>(int[] slots, Func<T> body)
    {
        if (slots.Length == 1)
        {
            lock (_gates[slots[0]]) return body();
        }
        // Always in slot order, so two requests never wait on each other.
        lock (_gates[0])
        {
            lock (_gates[1]) return body();
        }
    }

    public void Dispose()
    {
        foreach (var f in Files) f.Dispose();
    }
}

/// <summary>A tensor's statistics, or why it has none.</summary>
internal sealed record StatsResult(TensorStatistics? Stats, string? Skipped);
