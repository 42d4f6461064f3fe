// As the embed page's VitePress snippet says.
export default {
  title: "A VitePress host",
  // No favicon request (a 404 would count as a console error in the test).
  head: [["link", { rel: "icon", href: "data:," }]],
  vue: { template: { compilerOptions: { isCustomElement: (tag) => tag === "smtp-lab" } } },
  vite: { optimizeDeps: { exclude: ["smtp-lab"] } },
};
