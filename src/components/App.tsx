export function App() {
  return (
    <main>
      <h1>Covariate Shift Lab</h1>
      <p>Batch Normalization&apos;s Figure 1, live in the browser.</p>
    </main>
  );
}
