"""Two RPC servers found through gee's registry, called by one load-balancing client.

``python -m examples.rpc`` starts everything and stops it again:

1. gee's registry (``python -m gee rpc registry``) on a free port;
2. two servers (``python -m examples.rpc.server``), each serving two services, ``Arith`` (the
   service of Go's net/rpc documentation) and ``Host`` (which server answered), and announcing
   themselves to the registry;
3. a client (``examples.rpc.client``) that finds them through the registry with
   ``RegistryDiscovery`` and calls them through ``XClient``: round robin, broadcast, consistent
   hashing, many concurrent calls with p2c; then stops one server, sees the registry drop it, and
   keeps calling the other;
4. then every process is stopped (SIGTERM, by PID): the servers deregister on the way out.

Each server also runs alone: ``python -m examples.rpc.server --name a --port 9001
--registry http://127.0.0.1:9999/_geerpc_/registry`` beside ``gee rpc registry --port 9999``.
"""
