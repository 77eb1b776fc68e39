using System.CommandLine;
using System.Globalization;
using WeightScope.Analysis;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Plotting;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope hist FILE NAME...</c>: value distributions, as <c>plt.hist(w.flatten(), bins=50)</c>.</summary>
internal static class HistCommand
{
    private static readonly string[] Eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

    public static Command Create()
    {
        var file = Common.FileArgument();
        var names = new Argument<string[]>("name") { Description = "Tensor names, globs ('*.weight') or indexed views ('conv.weight[0]')", Arity = ArgumentArity.OneOrMore };
        var bins = new Option<int>("--bins") { Description = "Number of equal-width bins (numpy.histogram's bins)", DefaultValueFactory = _ => 50 };
        var log = new Option<bool>("--log") { Description = "Logarithmic count axis" };
        var output = new Option<string?>("--out", "-o") { Description = "Write a figure instead of text: .svg or .png (several tensors are overlaid)" };
        var json = Common.JsonOption();
        var cmd = new Command("hist", """
            Histogram of tensor values, exactly as numpy.histogram / plt.hist bin them (NaN and Inf counted apart).

            Examples:
              weightscope hist model.pth fc1.weight
              weightscope hist model.pth 'fc*.weight' --bins 30 --out weights.png
              weightscope hist model.pth fc1.weight --log --out fc1.svg
              weightscope hist model.pth fc1.weight --json
            """) { file, names, bins, log, output, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            int binCount = p.GetValue(bins);
            if (binCount < 1) throw new UsageException($"--bins must be at least 1 (got {binCount})");
            var outPath = p.GetValue(output);
            if (outPath is not null && Path.GetExtension(outPath).ToLowerInvariant() is not (".png" or ".svg"))
                throw new UsageException($"--out: cannot tell the image format from '{outPath}': use a .png or .svg file name");
            using var model = Common.Open(p.GetValue(file)!);
            var tensors = Select(model, p.GetValue(names)!);
            var histograms = tensors.Select(t => Progress.Run($"histogram {t.Name}", 1, t.ByteSize, done =>
            {
                var h = Histogram.Compute(t, binCount);
                done(1);
                return h;
            })).ToList();
            if (outPath is not null)
            {
                Plot.Histogram(histograms, new HistogramPlotOptions { LogScale = p.GetValue(log) }).Save(outPath);
                Console.Error.WriteLine($"wrote {outPath}");
            }
            else if (p.GetValue(json)) WriteJson(histograms);
            else WriteText(tensors, histograms, p.GetValue(log));
            return ExitCode.Ok;
        }));
        return cmd;
    }

    /// <summary>Each spec as an exact name, a glob (when it has * ? or [ and is not a name), or a name with an index.</summary>
    internal static List<TensorEntry> Select(ModelFile model, IEnumerable<string> specs)
    {
        var selected = new List<TensorEntry>();
        foreach (var spec in specs)
        {
            if (model.Tensors.TryGet(spec, out var exact)) selected.Add(exact);
            else if (spec.IndexOfAny(['*', '?']) >= 0 || (spec.Contains('[') && !spec.EndsWith(']')))
            {
                var matched = model.Tensors.Match(spec).ToList();
                if (matched.Count == 0) throw new UsageException($"no tensor matches '{spec}' (run 'weightscope list FILE' to see the names)");
                selected.AddRange(matched);
            }
            else selected.Add(ShowCommand.Resolve(model, spec, out _));
        }
        return selected.DistinctBy(t => t.Name).ToList();
    }

    private static void WriteJson(List<Histogram> histograms) => Json.Write(w => ModelJson.Histograms(w, histograms));

    private static void WriteText(List<TensorEntry> tensors, List<Histogram> histograms, bool log)
    {
        var o = Console.Out;
        int width = Console.IsOutputRedirected ? 80 : Math.Max(40, SafeWindowWidth());
        for (int k = 0; k < histograms.Count; k++)
        {
            var (t, h) = (tensors[k], histograms[k]);
            if (k > 0) o.WriteLine();
            var extra = new List<string>();
            if (h.NaN > 0) extra.Add($"{Text.Count(h.NaN)} NaN");
            if (h.PositiveInfinity > 0) extra.Add($"{Text.Count(h.PositiveInfinity)} +Inf");
            if (h.NegativeInfinity > 0) extra.Add($"{Text.Count(h.NegativeInfinity)} -Inf");
            o.WriteLine($"{t.Name}  {t.DType.Name()} {t.Shape}  {Text.Count(h.Total)} values in {h.Counts.Count} bins"
                        + (extra.Count > 0 ? $" (not binned: {string.Join(", ", extra)})" : ""));
            // Enough decimals for three significant digits of the bin width, the same for every edge so columns align.
            double binWidth = h.Edges[1] - h.Edges[0];
            int decimals = binWidth > 0 ? Math.Clamp(2 - (int)Math.Floor(Math.Log10(binWidth)), 0, 12) : 4;
            string Number(double v) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
            var lo = h.Edges.Take(h.Counts.Count).Select(Number).ToList();
            var hi = h.Edges.Skip(1).Select(Number).ToList();
            int loW = lo.Max(s => s.Length), hiW = hi.Max(s => s.Length);
            var counts = h.Counts.Select(c => Text.Count(c)).ToList();
            int countW = counts.Max(s => s.Length);
            int barW = Math.Max(10, width - (loW + hiW + 5) - countW - 3);
            double Scale(long c) => log ? Math.Log10(c + 1) : c;
            double max = Math.Max(1e-300, h.Counts.Max(c => Scale(c)));
            for (int i = 0; i < h.Counts.Count; i++)
            {
                // Half-open bins, the last one closed: as numpy counts them.
                string range = $"[{lo[i].PadLeft(loW)}, {hi[i].PadLeft(hiW)}{(i == h.Counts.Count - 1 ? "]" : ")")}";
                o.WriteLine($"{range} {counts[i].PadLeft(countW)} {Bar(Scale(h.Counts[i]) / max * barW)}".TrimEnd());
            }
        }
    }

    private static string Bar(double cells)
    {
        int eighths = (int)Math.Round(cells * 8);
        return new string('█', eighths / 8) + Eighths[eighths % 8];
    }

    private static int SafeWindowWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 80; }
        catch (IOException) { return 80; }
    }
}
