// Plots a histogram of one tensor's values to an SVG or PNG file, binned exactly as numpy.histogram bins them.
// Python: counts, edges = np.histogram(w.flatten(), bins=50); plt.hist(w.flatten(), bins=50); plt.savefig("fc1.svg")
// Run:    dotnet run --project samples/csharp/PlotHistogram -- [MODEL] [TENSOR] [OUT.svg|OUT.png] [BINS]
//         (default samples/simple_nn.pth fc1.weight artifacts/samples/fc1.weight.svg 50: artifacts/ is git-ignored)
using System.Globalization;
using WeightScope;
using WeightScope.Analysis;
using WeightScope.Plotting;

string path = args.Length > 0 ? args[0] : "samples/simple_nn.pth";
string name = args.Length > 1 ? args[1] : "fc1.weight";
string output = args.Length > 2 ? args[2] : Path.Combine("artifacts", "samples", name + ".svg");
int bins = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 50;
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);

#region readme
using var model = ModelFile.Open(path);
Histogram h = Histogram.Compute(model.Tensors[name], bins);     // np.histogram(w.flatten(), bins)
Plot.Histogram([h]).Save(output);                               // .svg or .png, from the file name
Console.WriteLine($"counts: {string.Join(" ", h.Counts)}");
Console.WriteLine($"edges:  {string.Join(" ", h.Edges.Select(e => e.ToString("R", CultureInfo.InvariantCulture)))}");
Console.WriteLine($"wrote {output}");
#endregion
