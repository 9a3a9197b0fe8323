// customer360's GraphiQL page: one API key field for every tab, queries, the schema
// (introspection) and subscriptions alike. Changing the key makes a new fetcher, so GraphiQL
// fetches the schema again with it. The key stays in this browser tab (sessionStorage).
(function () {
  "use strict";
  var STORAGE = "c360.apiKey";
  var url = window.location.href.split(/[?#]/)[0];
  var wsUrl = url.replace(/^http/, "ws");
  var tabs = JSON.parse(document.getElementById("c360-tabs").textContent);
  var form = document.getElementById("c360-bar");
  var input = document.getElementById("c360-key");
  var status = document.getElementById("c360-key-status");
  input.value = window.sessionStorage.getItem(STORAGE) || "";

  function credentials(key) {
    return key ? { "X-API-Key": key } : {};
  }

  function show(key) {
    if (!key) {
      status.textContent = "no key: paste one to run queries";
      status.dataset.state = "missing";
      return;
    }
    status.textContent = "checking…";
    window
      .fetch(url, {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json" }, credentials(key)),
        body: JSON.stringify({ query: "{ __typename }" }),
      })
      .then(function (response) {
        var ok = response.status === 200;
        status.textContent = ok ? "key accepted" : "key not valid (" + response.status + ")";
        status.dataset.state = ok ? "accepted" : "rejected";
      })
      .catch(function () {
        status.textContent = "the API does not answer";
        status.dataset.state = "unreachable";
      });
  }

  function App() {
    var state = React.useState(input.value.trim());
    var key = state[0];
    var setKey = state[1];
    React.useEffect(function () {
      function apply(event) {
        if (event) event.preventDefault();
        var next = input.value.trim();
        window.sessionStorage.setItem(STORAGE, next);
        setKey(next);
      }
      form.addEventListener("submit", apply);
      input.addEventListener("change", apply);
      return function () {
        form.removeEventListener("submit", apply);
        input.removeEventListener("change", apply);
      };
    }, []);
    React.useEffect(function () {
      show(key);
    }, [key]);
    var fetcher = React.useMemo(
      function () {
        return GraphiQL.createFetcher({
          url: url,
          subscriptionUrl: wsUrl,
          headers: credentials(key),
          // a browser's WebSocket cannot send headers: the key goes in connection_init
          wsConnectionParams: credentials(key),
        });
      },
      [key]
    );
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
