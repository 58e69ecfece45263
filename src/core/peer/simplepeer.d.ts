// simple-peer's self-contained browser bundle (browserify standalone UMD) has the package's API.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer from 'simple-peer';
  export = SimplePeer;
}
