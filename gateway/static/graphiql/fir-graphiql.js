// GraphiQL for FIR graph, from the assets this package ships: no CDN, no inline script (the page's
// Content-Security-Policy allows scripts from this origin only).
// The URL's fragment may carry query=, variables= and headers= (JSON), e.g. a link with a query to
// run: /graphql#query=%7B...%7D. A fragment never reaches the server, so a token in it stays out of logs.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.hash.slice(1));
  var endpoint = window.location.origin + window.location.pathname;
  var socket = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + window.location.pathname;
  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket });
  var props = { fetcher: fetcher, defaultEditorToolsVisibility: true, isHeadersEditorEnabled: true };
  ["query", "variables", "headers"].forEach(function (name) {
    if (params.has(name)) props[name] = params.get(name);
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQL, props));
})();
