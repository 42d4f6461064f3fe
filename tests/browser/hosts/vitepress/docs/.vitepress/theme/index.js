// As the embed page's VitePress snippet says, with its theming mapping.
import DefaultTheme from "vitepress/theme";
import "./smtp-lab.css";

export default {
  extends: DefaultTheme,
  async enhanceApp() {
    if (!import.meta.env.SSR) await import("smtp-lab");
  },
};
