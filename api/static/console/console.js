// customer360 console: a service agent's 360 view, over the GraphQL API with the caller's key.
(function () {
  "use strict";
  var STORAGE = "c360.apiKey"; // shared with the GraphiQL page
  var api = window.location.origin + "/graphql";
  var docs = JSON.parse(document.getElementById("documents").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var state = { key: window.sessionStorage.getItem(STORAGE) || "", personId: null, name: "", ws: null };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function text(value) { return value === null || value === undefined ? "" : String(value); }
  function nodes(connection) { return connection.edges.map(function (e) { return e.node; }); }
  function clear(id) { var n = $(id); while (n.firstChild) n.removeChild(n.firstChild); return n; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function none(parent, what) { parent.appendChild(el("div", { "class": "muted none", text: what })); }

  function gql(query, variables) {
    return window.fetch(api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": state.key },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (body.errors && body.errors.length) {
          var e = body.errors[0];
          throw new Error(e.message + (e.extensions ? " (" + e.extensions.code + ")" : ""));
        }
        return body.data;
      });
    });
  }

  // --- the key -------------------------------------------------------------------------------
  function setKey(key) {
    state.key = key;
    window.sessionStorage.setItem(STORAGE, key);
    var status = $("key-status");
    if (!key) { status.textContent = "no key"; status.dataset.state = "missing"; return; }
    gql("{ __typename }").then(function () {
      status.textContent = "key accepted"; status.dataset.state = "accepted"; follow();
    }, function (error) {
      status.textContent = "key not valid: " + error.message; status.dataset.state = "rejected";
    });
  }
  $("key").value = state.key;
  $("key-form").addEventListener("submit", function (event) {
    event.preventDefault(); setKey($("key").value.trim());
  });

  // --- search --------------------------------------------------------------------------------
  $("search").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target, vars = {};
    ["name", "email", "phone"].forEach(function (f) { if (form[f].value.trim()) vars[f] = form[f].value.trim(); });
    $("search-status").textContent = "searching…";
    clear("results"); // a failed search must not leave the previous answer on screen
    gql(docs.search, vars).then(function (data) {
      var found = nodes(data.searchPeople), list = clear("results");
      $("search-status").textContent = data.searchPeople.totalCount + " found";
      found.forEach(function (p) {
        list.appendChild(el("li", { "class": "result", "data-person": p.personId, onclick: function () { show(p.personId); } }, [
          el("strong", { text: text(p.givenName) + " " + text(p.familyName) }),
          el("div", { "class": "muted", text: [p.email, p.phone, p.city].filter(Boolean).join(" · ") }),
          el("div", {}, p.sources.map(function (s) { return el("span", { "class": "tag", text: s }); })),
        ]));
      });
    }, function (error) { $("search-status").textContent = error.message; });
  });

  // --- the person ----------------------------------------------------------------------------
  function show(personId, notice) {
    return gql(docs.person, { id: personId }).then(function (data) {
      var p = data.person;
      if (!p) { $("action-status").textContent = "no person " + personId; return; }
      state.personId = p.personId;
      state.name = (text(p.givenName) + " " + text(p.familyName)).trim();
      $("person").hidden = false;
      $("notice").hidden = !notice;
      $("notice").textContent = notice || "";
      render(p);
    }, function (error) { $("action-status").textContent = error.message; });
  }

  function render(p) {
    var profile = clear("profile");
    profile.appendChild(el("h2", { id: "person-name", text: text(p.givenName) + " " + text(p.familyName) }));
    profile.appendChild(el("div", { "class": "muted", id: "person-id", text: p.personId +
      (p.aliases.length ? " (also " + p.aliases.join(", ") + ")" : "") }));
    profile.appendChild(el("p", { text: [p.email, p.phone, p.birthDate && "born " + p.birthDate,
      [p.addressLine1, p.postcode, p.city, p.country].filter(Boolean).join(", ")].filter(Boolean).join(" · ") }));

    var records = clear("records"), bySystem = {};
    nodes(p.sourceRecords).forEach(function (r) { (bySystem[r.sourceId] = bySystem[r.sourceId] || []).push(r); });
    Object.keys(bySystem).sort().forEach(function (system) {
      records.appendChild(el("h4", { text: system }));
      bySystem[system].forEach(function (r) {
        var w = r.whyLinked;
        records.appendChild(el("div", { "class": "record", "data-record": r.recordKey }, [
          el("div", {}, [el("strong", { text: r.recordKey }), el("span", { text: "  " + [text(r.givenName) + " " + text(r.familyName), r.email, r.phone].filter(Boolean).join(" · ") }),
            el("button", { "class": "split", type: "button", onclick: function () { split(r.recordKey); }, text: "Split off…" })]),
          el("div", { "class": "why", text: "linked by " + w.rule + (w.score !== null ? " (" + w.score + ")" : "") +
            (w.matchedRecord ? ", matched " + w.matchedRecord : "") + (w.actor ? ", " + w.actor : "") + (w.linkedAt ? " at " + w.linkedAt : "") }),
        ]));
      });
    });

    var consents = clear("consents");
    consents.appendChild(el("tr", {}, ["channel", "purpose", "status", "since"].map(function (h) { return el("th", { text: h }); })));
    p.consents.forEach(function (c) {
      consents.appendChild(el("tr", {}, [c.channel, c.purpose, c.status, c.at].map(function (v) { return el("td", { text: text(v) }); })));
    });
    if (!p.consents.length) consents.appendChild(el("tr", {}, [el("td", { "class": "muted none", colspan: "4", text: "no consent recorded" })]));
    var carts = clear("carts");
    var open = nodes(p.carts).filter(function (c) { return (c.status || "").toUpperCase() !== "CONVERTED"; });
    if (!open.length) none(carts, "no open cart");
    open.forEach(function (c) {
      carts.appendChild(el("div", { text: text(c.status) + " " + text(c.total) + " " + text(c.currency) + ": " +
        c.lines.map(function (l) { return l.quantity + "× " + l.name; }).join(", ") }));
    });
    var cases = clear("cases");
    if (!nodes(p.cases).length) none(cases, "no case");
    nodes(p.cases).forEach(function (c) {
      cases.appendChild(el("div", { text: text(c.caseId) + " " + text(c.subject) + " (" + text(c.status) + ", " + text(c.openedAt).slice(0, 10) + ")" }));
    });
    var orders = clear("orders");
    orders.appendChild(el("p", { "class": "muted", text: p.orders.totalCount ? plural(p.orders.totalCount, "order") : "no order" }));
    nodes(p.orders).forEach(function (o) {
      orders.appendChild(el("div", { "class": "order" }, [
        el("strong", { text: text(o.orderId) + " · " + text(o.placedAt).slice(0, 10) + " · " + text(o.status) + " · " + text(o.total) + " " + text(o.currency) }),
        el("div", { "class": "muted", text: o.lines.map(function (l) { return l.quantity + "× " + (l.name || l.sku); }).join(", ") }),
      ]));
    });
    var timeline = clear("timeline");
    if (!nodes(p.timeline).length) none(timeline, "nothing yet");
    nodes(p.timeline).forEach(function (t) {
      timeline.appendChild(el("li", { text: text(t.at).slice(0, 16).replace("T", " ") + "  " + t.type + "  " + t.summary }));
    });
  }

  // --- steward actions (admin) -----------------------------------------------------------------
  function report(message, ok) {
    var status = $("action-status");
    status.textContent = message; status.className = ok ? "ok" : "error";
  }
  $("merge-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var other = $("merge-with").value.trim();
    if (!other || !state.personId) return;
    var into = state.personId, intoName = state.name;
    // the confirmation names both people, so an agent sees whom they are about to join
    gql(docs.person, { id: other }).then(function (data) {
      var o = data.person;
      if (!o) { report("no person " + other, false); return; }
      var name = (text(o.givenName) + " " + text(o.familyName)).trim();
      if (!window.confirm("Merge " + name + " (" + o.personId + ") into " + intoName + " (" + into +
        ")? Both become one person.")) return;
      return gql(docs.merge, { a: into, b: o.personId, reason: "console merge" }).then(function (data) {
        var r = data.mergePeople;
        if (r.__typename !== "PersonMergeSuccess") { report(r.message, false); return; }
        report("merged " + name + " (" + r.absorbedIds.join(", ") + ") into " + r.person.personId, true);
        $("merge-with").value = "";
        show(r.person.personId);
      });
    }).catch(function (error) { report(error.message, false); });
  });
  function split(recordKey) {
    if (!window.confirm("Split " + recordKey + " off this person? It becomes a person of its own.")) return;
    gql(docs.split, { key: recordKey, reason: "console split" }).then(function (data) {
      var r = data.splitRecord;
      if (r.__typename !== "RecordSplitSuccess") { report(r.message, false); return; }
      report("split off " + recordKey + " (now " + r.person.personId + ")", true);
      show(state.personId);
    }, function (error) { report(error.message, false); });
  }

  // --- live updates --------------------------------------------------------------------------
  function follow() {
    if (state.ws) state.ws.dispose();
    var live = $("live");
    state.ws = graphqlWs.createClient({
      url: api.replace(/^http/, "ws"),
      connectionParams: { "X-API-Key": state.key },
      on: {
        connected: function () { live.textContent = "live"; live.dataset.state = "connected"; },
        closed: function (e) { live.textContent = "not live (" + e.code + " " + e.reason + ")"; live.dataset.state = "closed"; },
      },
    });
    state.ws.subscribe({ query: docs.events }, {
      next: function (message) {
        var e = message.data && message.data.identityEvents;
        if (!e || !state.personId) return;
        var absorbed = e.absorbedIds.indexOf(state.personId) >= 0;
        var mine = absorbed || e.personId === state.personId || e.splitFrom === state.personId;
        if (!mine) return;
        // stay with the person on screen (the caller): follow them only when a merge absorbed
        // them into another; a record split off them becomes someone else, not the caller
        $("action-status").textContent = "";
        show(absorbed ? e.personId : state.personId, e.kind + " " + e.recordKeys.join(", ") + " at " + e.at);
      },
      error: function () {},
      complete: function () {},
    });
  }

  setKey(state.key);
})();
