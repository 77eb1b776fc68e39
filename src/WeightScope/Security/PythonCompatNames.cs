namespace WeightScope.Security;

/// <summary>
/// How Python 3's unpickler renames a Python 2 global before importing it: CPython's <c>Lib/_compat_pickle.py</c>
/// (<c>NAME_MAPPING</c> for a (module, name) pair, else <c>IMPORT_MAPPING</c> for the module), applied by
/// <c>Unpickler.find_class</c> only when the pickle's protocol is below 3 and <c>fix_imports</c> is on (the default;
/// torch.load keeps it). The tables are CPython 3.11's, printed by Debian's python3; a test compares them with the
/// interpreter's own.
/// </summary>
internal static class PythonCompatNames
{
    /// <summary>(module, name) as <c>find_class</c> imports it for a pickle of <paramref name="protocol"/>.</summary>
    public static (string Module, string Name) Resolve(string module, string name, int protocol)
    {
        if (protocol >= 3) return (module, name);
        if (NameMapping.TryGetValue((module, name), out var mapped)) return mapped;
        return (ImportMapping.GetValueOrDefault(module, module), name);
    }

    /// <summary>Every <c>IMPORT_MAPPING</c> entry (Python 2 module → Python 3 module).</summary>
    internal static IReadOnlyDictionary<string, string> Imports => ImportMapping;

    /// <summary>Every <c>NAME_MAPPING</c> entry.</summary>
    internal static IReadOnlyDictionary<(string, string), (string, string)> Names => NameMapping;

    private static readonly Dictionary<string, string> ImportMapping = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins", ["copy_reg"] = "copyreg", ["Queue"] = "queue", ["SocketServer"] = "socketserver",
        ["ConfigParser"] = "configparser", ["repr"] = "reprlib", ["tkFileDialog"] = "tkinter.filedialog", ["tkSimpleDialog"] = "tkinter.simpledialog",
        ["tkColorChooser"] = "tkinter.colorchooser", ["tkCommonDialog"] = "tkinter.commondialog", ["Dialog"] = "tkinter.dialog", ["Tkdnd"] = "tkinter.dnd",
        ["tkFont"] = "tkinter.font", ["tkMessageBox"] = "tkinter.messagebox", ["ScrolledText"] = "tkinter.scrolledtext", ["Tkconstants"] = "tkinter.constants",
        ["Tix"] = "tkinter.tix", ["ttk"] = "tkinter.ttk", ["Tkinter"] = "tkinter", ["markupbase"] = "_markupbase",
        ["_winreg"] = "winreg", ["thread"] = "_thread", ["dummy_thread"] = "_dummy_thread", ["dbhash"] = "dbm.bsd",
        ["dumbdbm"] = "dbm.dumb", ["dbm"] = "dbm.ndbm", ["gdbm"] = "dbm.gnu", ["xmlrpclib"] = "xmlrpc.client",
        ["SimpleXMLRPCServer"] = "xmlrpc.server", ["httplib"] = "http.client", ["htmlentitydefs"] = "html.entities", ["HTMLParser"] = "html.parser",
        ["Cookie"] = "http.cookies", ["cookielib"] = "http.cookiejar", ["BaseHTTPServer"] = "http.server", ["test.test_support"] = "test.support",
        ["commands"] = "subprocess", ["urlparse"] = "urllib.parse", ["robotparser"] = "urllib.robotparser", ["urllib2"] = "urllib.request",
        ["anydbm"] = "dbm", ["_abcoll"] = "collections.abc", ["cPickle"] = "pickle", ["_elementtree"] = "xml.etree.ElementTree",
        ["FileDialog"] = "tkinter.filedialog", ["SimpleDialog"] = "tkinter.simpledialog", ["DocXMLRPCServer"] = "xmlrpc.server", ["SimpleHTTPServer"] = "http.server",
        ["CGIHTTPServer"] = "http.server", ["UserDict"] = "collections", ["UserList"] = "collections", ["UserString"] = "collections",
        ["whichdb"] = "dbm", ["StringIO"] = "io", ["cStringIO"] = "io",
    };

    private static readonly Dictionary<(string, string), (string, string)> NameMapping = new()
    {
        [("__builtin__", "xrange")] = ("builtins", "range"), [("__builtin__", "reduce")] = ("functools", "reduce"),
        [("__builtin__", "intern")] = ("sys", "intern"), [("__builtin__", "unichr")] = ("builtins", "chr"),
        [("__builtin__", "unicode")] = ("builtins", "str"), [("__builtin__", "long")] = ("builtins", "int"),
        [("itertools", "izip")] = ("builtins", "zip"), [("itertools", "imap")] = ("builtins", "map"),
        [("itertools", "ifilter")] = ("builtins", "filter"), [("itertools", "ifilterfalse")] = ("itertools", "filterfalse"),
        [("itertools", "izip_longest")] = ("itertools", "zip_longest"), [("UserDict", "IterableUserDict")] = ("collections", "UserDict"),
        [("UserList", "UserList")] = ("collections", "UserList"), [("UserString", "UserString")] = ("collections", "UserString"),
        [("whichdb", "whichdb")] = ("dbm", "whichdb"), [("_socket", "fromfd")] = ("socket", "fromfd"),
        [("_multiprocessing", "Connection")] = ("multiprocessing.connection", "Connection"), [("multiprocessing.process", "Process")] = ("multiprocessing.context", "Process"),
        [("multiprocessing.forking", "Popen")] = ("multiprocessing.popen_fork", "Popen"), [("urllib", "ContentTooShortError")] = ("urllib.error", "ContentTooShortError"),
        [("urllib", "getproxies")] = ("urllib.request", "getproxies"), [("urllib", "pathname2url")] = ("urllib.request", "pathname2url"),
        [("urllib", "quote_plus")] = ("urllib.parse", "quote_plus"), [("urllib", "quote")] = ("urllib.parse", "quote"),
        [("urllib", "unquote_plus")] = ("urllib.parse", "unquote_plus"), [("urllib", "unquote")] = ("urllib.parse", "unquote"),
        [("urllib", "url2pathname")] = ("urllib.request", "url2pathname"), [("urllib", "urlcleanup")] = ("urllib.request", "urlcleanup"),
        [("urllib", "urlencode")] = ("urllib.parse", "urlencode"), [("urllib", "urlopen")] = ("urllib.request", "urlopen"),
        [("urllib", "urlretrieve")] = ("urllib.request", "urlretrieve"), [("urllib2", "HTTPError")] = ("urllib.error", "HTTPError"),
        [("urllib2", "URLError")] = ("urllib.error", "URLError"), [("exceptions", "ArithmeticError")] = ("builtins", "ArithmeticError"),
        [("exceptions", "AssertionError")] = ("builtins", "AssertionError"), [("exceptions", "AttributeError")] = ("builtins", "AttributeError"),
        [("exceptions", "BaseException")] = ("builtins", "BaseException"), [("exceptions", "BufferError")] = ("builtins", "BufferError"),
        [("exceptions", "BytesWarning")] = ("builtins", "BytesWarning"), [("exceptions", "DeprecationWarning")] = ("builtins", "DeprecationWarning"),
        [("exceptions", "EOFError")] = ("builtins", "EOFError"), [("exceptions", "EnvironmentError")] = ("builtins", "EnvironmentError"),
        [("exceptions", "Exception")] = ("builtins", "Exception"), [("exceptions", "FloatingPointError")] = ("builtins", "FloatingPointError"),
        [("exceptions", "FutureWarning")] = ("builtins", "FutureWarning"), [("exceptions", "GeneratorExit")] = ("builtins", "GeneratorExit"),
        [("exceptions", "IOError")] = ("builtins", "IOError"), [("exceptions", "ImportError")] = ("builtins", "ImportError"),
        [("exceptions", "ImportWarning")] = ("builtins", "ImportWarning"), [("exceptions", "IndentationError")] = ("builtins", "IndentationError"),
        [("exceptions", "IndexError")] = ("builtins", "IndexError"), [("exceptions", "KeyError")] = ("builtins", "KeyError"),
        [("exceptions", "KeyboardInterrupt")] = ("builtins", "KeyboardInterrupt"), [("exceptions", "LookupError")] = ("builtins", "LookupError"),
        [("exceptions", "MemoryError")] = ("builtins", "MemoryError"), [("exceptions", "NameError")] = ("builtins", "NameError"),
        [("exceptions", "NotImplementedError")] = ("builtins", "NotImplementedError"), [("exceptions", "OSError")] = ("builtins", "OSError"),
        [("exceptions", "OverflowError")] = ("builtins", "OverflowError"), [("exceptions", "PendingDeprecationWarning")] = ("builtins", "PendingDeprecationWarning"),
        [("exceptions", "ReferenceError")] = ("builtins", "ReferenceError"), [("exceptions", "RuntimeError")] = ("builtins", "RuntimeError"),
        [("exceptions", "RuntimeWarning")] = ("builtins", "RuntimeWarning"), [("exceptions", "StopIteration")] = ("builtins", "StopIteration"),
        [("exceptions", "SyntaxError")] = ("builtins", "SyntaxError"), [("exceptions", "SyntaxWarning")] = ("builtins", "SyntaxWarning"),
        [("exceptions", "SystemError")] = ("builtins", "SystemError"), [("exceptions", "SystemExit")] = ("builtins", "SystemExit"),
        [("exceptions", "TabError")] = ("builtins", "TabError"), [("exceptions", "TypeError")] = ("builtins", "TypeError"),
        [("exceptions", "UnboundLocalError")] = ("builtins", "UnboundLocalError"), [("exceptions", "UnicodeDecodeError")] = ("builtins", "UnicodeDecodeError"),
        [("exceptions", "UnicodeEncodeError")] = ("builtins", "UnicodeEncodeError"), [("exceptions", "UnicodeError")] = ("builtins", "UnicodeError"),
        [("exceptions", "UnicodeTranslateError")] = ("builtins", "UnicodeTranslateError"), [("exceptions", "UnicodeWarning")] = ("builtins", "UnicodeWarning"),
        [("exceptions", "UserWarning")] = ("builtins", "UserWarning"), [("exceptions", "ValueError")] = ("builtins", "ValueError"),
        [("exceptions", "Warning")] = ("builtins", "Warning"), [("exceptions", "ZeroDivisionError")] = ("builtins", "ZeroDivisionError"),
        [("multiprocessing", "AuthenticationError")] = ("multiprocessing.context", "AuthenticationError"), [("multiprocessing", "BufferTooShort")] = ("multiprocessing.context", "BufferTooShort"),
        [("multiprocessing", "ProcessError")] = ("multiprocessing.context", "ProcessError"), [("multiprocessing", "TimeoutError")] = ("multiprocessing.context", "TimeoutError"),
        [("__builtin__", "basestring")] = ("builtins", "str"), [("exceptions", "StandardError")] = ("builtins", "Exception"),
        [("UserDict", "UserDict")] = ("collections", "UserDict"), [("socket", "_socketobject")] = ("socket", "SocketType"),
    };
}
