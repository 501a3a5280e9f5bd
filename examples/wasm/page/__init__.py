"""The Python that runs in the page, inside Pyodide (the modules that import ``js`` run there only).

The server sends these files to the browser, which writes them to Pyodide's file system as the
package ``page`` and calls ``page.boot.main()``. ``fib`` is plain Python: the server uses it too.
"""
