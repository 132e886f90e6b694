import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { refusedListeners, savedToken, saveToken } from "./api";
import { ClientsView, ClientView } from "./clients-view";
import { FarmView } from "./farm-view";
import { JobView } from "./job-view";
import { onConnection, startLive } from "./live";
import "./styles.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

/** Asks for a control token once; it is kept in this browser (localStorage) and sent as a header. */
function TokenForm(props: { message: string; onSaved: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="card token"
      data-testid="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        saveToken(value.trim());
        props.onSaved();
      }}
    >
      <h2>Farm control needs a token</h2>
      <p class="muted">{props.message}</p>
      <p>
        Make one on the gateway with <code>bellwether token add &lt;name&gt;</code> and paste it here. It is kept in
        this browser only.
      </p>
      <input
        type="password"
        name="token"
        autocomplete="off"
        placeholder="control token"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />{" "}
      <button type="submit">Save</button>
    </form>
  );
}

function App() {
  const hash = useHash();
  const [live, setLive] = useState(false);
  const [refused, setRefused] = useState("");
  const [generation, setGeneration] = useState(0);
  useEffect(() => onConnection(setLive), []);
  useEffect(() => {
    const l = (m: string) => setRefused(m);
    refusedListeners.add(l);
    return () => void refusedListeners.delete(l);
  }, []);
  const route = hash.replace(/^#/, "") || "/";
  let view = <FarmView />;
  const job = /^\/jobs\/([^/]+)$/.exec(route);
  const client = /^\/clients\/([^/]+)$/.exec(route);
  if (job?.[1]) view = <JobView id={job[1]} />;
  else if (client?.[1]) view = <ClientView id={decodeURIComponent(client[1])} />;
  else if (route === "/clients") view = <ClientsView />;
  return (
    <>
      <header>
        <a class="brand" href="#/">
          Bellwether
        </a>
        <nav>
          <a href="#/">Farm</a>
          <a href="#/clients">Clients</a>
        </nav>
        <span class={`live ${live ? "on" : "off"}`} data-testid="live" title="live updates">
          {live ? "● live" : "○ reconnecting"}
        </span>
        {savedToken() && (
          <button
            type="button"
            class="small"
            onClick={() => {
              saveToken("");
              location.reload();
            }}
          >
            Forget token
          </button>
        )}
      </header>
      <main key={generation}>
        {refused ? (
          <TokenForm
            message={refused}
            onSaved={() => {
              setRefused("");
              setGeneration((g) => g + 1);
              startLive();
            }}
          />
        ) : (
          view
        )}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  render(<App />, root);
  startLive();
}
